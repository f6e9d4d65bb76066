"""``perflab runner ...``: register, inspect and check runners."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from perflab.cli import complete
from perflab.cli.become import ask_become_pass_option
from perflab.cli.env import Env
from perflab.cli.helptext import examples, json_option
from perflab.errors import InputError
from perflab.runners.fanout import DEFAULT_FORKS
from perflab.store import open_store


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    from perflab.secret_vars import is_secret_name, is_vaulted

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            secret = is_secret_name(re.split(r"[\s:=]", item)[0]) or is_vaulted(item)
            shown = "a value that names a secret (not shown)" if secret else f'"{item}"'
            raise InputError(f"expected KEY=VALUE, got {shown}", field=option)
        out[key] = value
    return out


def many_options(func: Any) -> Any:
    """RUNNER... | --group G | --all, --forks N, --json and -K (the sudo password)."""
    for option in reversed(
        [
            click.argument(
                "names", nargs=-1, metavar="[RUNNER]...", shell_complete=complete.runners
            ),
            click.option(
                "--group",
                help="Every runner of this inventory group.",
                shell_complete=complete.groups,
            ),
            click.option("--all", "every", is_flag=True, help="Every registered runner."),
            click.option(
                "--forks",
                default=DEFAULT_FORKS,
                show_default=True,
                type=click.IntRange(1, 512),
                help="Hosts worked on at once.",
            ),
            json_option("one result per runner"),
            ask_become_pass_option,
        ]
    ):
        func = option(func)
    return func


@click.group()
def runner() -> None:
    """Register runners and check on them (`local` always exists)."""


@runner.command(
    epilog=examples(
        "perflab runner add epyc-01 --host 127.0.1.11 --user lab --key ~/.ssh/lab "
        "--accept-new-host-key",
        "perflab runner add epyc-02 --host 127.0.1.12 --group linux_x86 "
        "--var perflab_isolated_cpus=2-15",
        "perflab runner add arm-01 --host 127.0.2.11 --proxy-jump lab@127.0.0.2 "
        "--label arch=aarch64",
    )
)
@click.argument("name")
@click.option(
    "--host",
    "address",
    help="Address, DNS name or SSH config alias (default: NAME, looked up in the "
    "SSH config like any host).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="SSH port (default: the SSH config's Port, else 22).",
)
@click.option("--user", help="SSH user (default: the SSH config's User, else the current user).")
@click.option(
    "--key", "key_file", help="Private key file (tried before the SSH config's IdentityFile)."
)
@click.option("--group", "groups", multiple=True, help="Group membership (repeatable).")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="A label to select runners by, like arch=x86_64 (repeatable).",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="Runner variables like perflab_isolated_cpus=2-7.",
)
@click.option("--proxy-jump", help="Jump host(s), as ssh -J takes them.")
@click.option("--platform", help="Platform class (default: from facts, e.g. linux-x86_64).")
@click.option(
    "--accept-new-host-key",
    is_flag=True,
    help="Pin the host key shown if it is not known yet (never a changed one).",
)
@json_option("the registered runner")
@ask_become_pass_option
@click.pass_obj
def add(
    env: Env,
    name: str,
    address: str | None,
    port: int | None,
    user: str | None,
    key_file: str | None,
    groups: tuple[str, ...],
    labels: tuple[str, ...],
    variables: tuple[str, ...],
    proxy_jump: str | None,
    platform: str | None,
    accept_new_host_key: bool,
    as_json: bool,
) -> None:
    """Register an SSH runner; its host key is verified, and pinned only when you say so.

    NAME alone is enough when it is a Host alias in your SSH config (~/.ssh/config, or
    the file `perflab -F` or $PERFLAB_SSH_CONFIG names); --host, --port, --user, --key and
    --proxy-jump win over the config.
    """
    from perflab.runners.registry import add_runner

    with open_store() as store:
        row = add_runner(
            store,
            name,
            accept_new=accept_new_host_key,
            address=address,
            port=port,
            user=user,
            key_file=key_file,
            groups=sorted(set(groups)),
            labels=_pairs(labels, "--label"),
            vars=_pairs(variables, "--var"),
            proxy_jump=proxy_jump,
            platform=platform,
        )
    if as_json:
        env.print_json(row)
        return
    if row["host_key_state"] == "local":
        env.stdout.write(f"registered {name} (this machine, ansible_connection=local)\n")
        return
    how = "already known" if row["host_key_state"] == "known" else "pinned"
    env.stdout.write(f"registered {name} ({row['endpoint']}); host key {row['host_key']} ({how})\n")


@runner.command("list")
@click.option("--group", shell_complete=complete.groups, help="Only runners of this group.")
@click.option("--platform", help="Only runners of this platform class (linux-x86_64 ...).")
@click.option(
    "--state",
    type=click.Choice(["idle", "reserved", "running", "quarantined", "offline"]),
    help="Only runners in this state.",
)
@json_option("the runners")
@click.pass_obj
def list_(
    env: Env, group: str | None, platform: str | None, state: str | None, as_json: bool
) -> None:
    """`local` (this machine, its facts read now) and the registered runners."""
    from perflab.runners.listing import list_runners

    with open_store() as store:
        rows = list_runners(store, group=group, platform=platform, state=state)
    if as_json:
        env.print_json({"runners": rows})
        return
    filters = " ".join(
        f"--{k} {v}" for k, v in (("group", group), ("platform", platform), ("state", state)) if v
    )
    if not rows:
        env.stdout.write(f"no runner matches {filters}\n")
        return
    _runners_table(env, rows)
    if not filters and len(rows) == 1:
        env.stdout.write(
            "no runner registered yet: `perflab runner add NAME --host ADDRESS` "
            "or `perflab runner import INVENTORY` registers some\n"
        )


def _runners_table(env: Env, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("runner", "address", "platform", "groups", "state", "facts"):
        table.add_column(column)
    for row in rows:
        state_text = row["state"] + (f": {row['state_reason']}" if row["state_reason"] else "")
        if not row["address"]:
            where = "(this machine)"
        elif row["port"] is None:
            where = row["address"]
        else:
            where = f"{row['address']}:{row['port']}"
        table.add_row(
            row["name"],
            where,
            row["platform"] or "",
            ",".join(row["groups"]),
            state_text,
            (row["facts_at"] or "")[:19],
        )
    env.console().print(table)


@runner.command()
@click.argument("name", shell_complete=complete.runners)
@json_option("the runner")
@click.pass_obj
def show(env: Env, name: str, as_json: bool) -> None:
    """Everything known about one runner (`local`: this machine, read now)."""
    import json

    from perflab.runners.listing import runner_info

    with open_store() as store:
        row = runner_info(store, name)
    if as_json:
        env.print_json(row)
        return
    for key, value in row.items():
        shown = json.dumps(value, indent=2) if isinstance(value, dict | list) else value
        env.stdout.write(f"{key:17} {shown}\n")


@runner.command()
@click.argument("name", shell_complete=complete.runners)
@click.pass_obj
def remove(env: Env, name: str) -> None:
    """Forget a runner (its pinned host key stays in known_hosts)."""
    with open_store() as store:
        store.runners.remove(name)
    env.stdout.write(f"removed {name}\n")


@runner.command("import")
@click.argument("inventory", type=click.Path(path_type=Path))
@json_option("the runners added and updated")
@click.pass_obj
def import_(env: Env, inventory: Path, as_json: bool) -> None:
    """Register every host of an Ansible inventory (YAML or INI) without connecting."""
    from perflab.runners.registry import import_inventory

    with open_store() as store:
        result = import_inventory(store, inventory)
    for note in result["notes"]:
        env.note(note)
    if as_json:
        env.print_json(result)
        return
    env.stdout.write(
        f"{inventory}: {len(result['added'])} added, {len(result['updated'])} updated\n"
    )


@runner.command()
@many_options
@click.pass_obj
def facts(
    env: Env, names: tuple[str, ...], group: str | None, every: bool, forks: int, as_json: bool
) -> None:
    """Gather and store platform facts (OS, CPU topology, memory, kernel, available knobs)."""
    from perflab.cli.fanout import render_outcomes, run_many
    from perflab.runners import select_runners
    from perflab.runners.registry import gather_facts

    with open_store() as store:
        chosen = select_runners(store, names, group=group, every=every)
        outcomes = run_many(
            env,
            chosen,
            lambda n: gather_facts(store, n),
            forks=forks,
            what="facts",
            as_json=as_json,
        )

    def row(f: dict[str, Any]) -> list[str]:
        cpu = f["cpu"]
        knobs = ",".join(k for k, ok in f["knobs"].items() if ok)
        return [
            f"{f['os'].get('name') or f['os'].get('id')} {f['kernel']}",
            f"{cpu['model']} {cpu['count']} CPUs ({cpu['cores']} cores)",
            f"{f['memory_bytes'] / 2**30:.1f} GiB" if f["memory_bytes"] else "-",
            knobs,
        ]

    render_outcomes(env, outcomes, ["system", "cpu", "memory", "knobs"], row, as_json=as_json)


@runner.command()
@many_options
@click.pass_obj
def ping(
    env: Env, names: tuple[str, ...], group: str | None, every: bool, forks: int, as_json: bool
) -> None:
    """Connect and run `true`; a runner that fails is quarantined with the reason."""
    from perflab.cli.fanout import render_outcomes, run_many
    from perflab.runners import select_runners
    from perflab.runners.registry import ping as ping_one

    with open_store() as store:
        chosen = select_runners(store, names, group=group, every=every)
        outcomes = run_many(
            env, chosen, lambda n: ping_one(store, n), forks=forks, what="ping", as_json=as_json
        )
    render_outcomes(env, outcomes, ["seconds"], lambda r: [f"{r['seconds']:.3f}"], as_json=as_json)


@runner.command()
@click.argument("name", shell_complete=complete.runners)
@click.option("--reason", required=True, help="Why: shown wherever the runner is listed.")
@click.pass_obj
def quarantine(env: Env, name: str, reason: str) -> None:
    """Take a runner out of service (jobs are not sent to it)."""
    with open_store() as store:
        store.runners.set_state(name, "quarantined", reason)
    env.stdout.write(f"{name}: quarantined ({reason})\n")


@runner.command()
@click.argument("name", shell_complete=complete.runners)
@click.pass_obj
def release(env: Env, name: str) -> None:
    """Put a quarantined or offline runner back in service."""
    with open_store() as store:
        store.runners.set_state(name, "idle", None)
    env.stdout.write(f"{name}: idle\n")
