"""``perflab config show|path``: the effective settings and where each came from."""

from __future__ import annotations

from typing import Any

import click

from perflab import config
from perflab.cli.env import Env


@click.group("config")
def config_() -> None:
    """Settings: the environment, $PERFLAB_HOME/config.yaml, the defaults."""


@config_.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_obj
def show(env: Env, as_json: bool) -> None:
    """Every setting, its effective value and its source (passwords masked)."""
    current = config.settings()
    shown = current.shown()
    if as_json:
        env.print_json(
            {"file": {"path": str(current.file), "exists": current.file_found}, "settings": shown}
        )
        return
    missing = "" if current.file_found else " (not found: the environment and the defaults only)"
    lines = [f"config file: {current.file}{missing}", ""]
    rows = [("setting", "value", "source")] + [
        (name, _text(item["value"]), item["source"]) for name, item in shown.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines += [
        f"{name:<{widths[0]}}  {value:<{widths[1]}}  {source}" for name, value, source in rows
    ]
    env.stdout.write("\n".join(lines) + "\n")


@config_.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_obj
def path(env: Env, as_json: bool) -> None:
    """Where the config file is looked for (it need not exist)."""
    file = config.config_file()
    if as_json:
        env.print_json({"path": str(file), "exists": file.exists()})
        return
    env.stdout.write(f"{file}\n")


def _text(value: Any) -> str:
    return "(not set)" if value is None else str(value)
