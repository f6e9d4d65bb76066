"""``perflab validate FILE...``: check job files, playbooks and inventories."""

from __future__ import annotations

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.errors import ExitStatus, InputError, PerflabError, SpecErrors


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...", shell_complete=complete.files)
@click.pass_obj
def validate(env: Env, files: tuple[str, ...]) -> None:
    """Check files; every problem is printed as file:line:col: field: message."""
    from perflab.validate import validate_file

    bad = 0
    for name in files:
        try:
            kind = validate_file(name)
        except SpecErrors as exc:
            bad += 1
            for error in exc.errors:
                env.error(str(error))
        except (InputError, PerflabError) as exc:
            bad += 1
            env.error(str(exc))
        else:
            env.stdout.write(f"{name}: ok ({kind})\n")
    if bad:
        env.fail(ExitStatus.INVALID_INPUT)
