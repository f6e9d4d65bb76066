"""``perflab parse FILE``: a benchmark tool's output as the normalized result."""

from __future__ import annotations

from pathlib import Path

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.errors import InputError, Location

FORMAT_CHOICES = [
    "auto",
    "go",
    "gbench",
    "hyperfine",
    "pytest-benchmark",
    "criterion",
    "jmh",
    "perflab",
]


@click.command()
@click.argument("file", metavar="FILE", shell_complete=complete.files)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default="auto",
    show_default=True,
    help="Output format (auto detects it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the normalized result as JSON.")
@click.pass_obj
def parse(env: Env, file: str, fmt: str, as_json: bool) -> None:
    """Parse benchmark output (a file, or a Criterion target directory)."""
    from perflab.formats import parse_path

    path = Path(file)
    if not path.exists():
        raise InputError("no such file", location=Location(file))
    try:
        result = parse_path(path, fmt)
    except PermissionError:
        raise InputError(
            "cannot read the file: permission denied", location=Location(file)
        ) from None
    except IsADirectoryError:
        raise InputError(
            "is a directory (only Criterion output may be a directory)", location=Location(file)
        ) from None
    if as_json:
        env.print_json(result.to_dict())
        return
    from perflab.report.tables import results_table

    env.console().print(results_table(result, title=f"{file} ({result.meta.get('format', fmt)})"))
