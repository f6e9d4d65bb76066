"""Help texts shared by many commands, and the examples that end a command's ``--help``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(what: str = "the result") -> Callable[[F], F]:
    """``--json``: one JSON document on stdout, nothing else (the convention of every
    command that prints results)."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help=f"Print {what} as one JSON document (nothing else on stdout).",
    )


def examples(*lines: str) -> str:
    """An epilog of example command lines, kept as written (click rewraps text otherwise)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
