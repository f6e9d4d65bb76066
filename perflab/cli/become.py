"""``-K/--ask-become-pass``: the sudo password typed once, as ``ansible -K`` asks for it.

The password is read before the command does anything (from the terminal, not echoed)
and used, for every runner of this command, when sudo asks for it and the runner's
``perflab_become_password_env`` gives none. It lives in this process's memory until
the command ends: never stored, logged or printed.
"""

from __future__ import annotations

import getpass
from typing import Any

import click

PROMPT = "BECOME password: "


def _ask(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from perflab.transport.credentials import typed

    ctx.with_resource(typed("become", getpass.getpass(PROMPT)))


def ask_become_pass_option(func: Any) -> Any:
    return click.option(
        "-K",
        "--ask-become-pass",
        is_flag=True,
        expose_value=False,
        callback=_ask,
        help="Ask for the sudo password of runners with ansible_become (as ansible -K); "
        "kept in memory for this command only.",
    )(func)
