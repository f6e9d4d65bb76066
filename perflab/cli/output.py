"""Where a report goes: stdout, or a file checked before any work is done.

A path that cannot be written is exit 3 with one line naming it and why, before
the store is read or anything is computed (not a traceback after a minute of work).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from perflab.errors import InputError

if TYPE_CHECKING:
    from perflab.cli.env import Env


def check_writable(output: str | None, field: str = "--output") -> None:
    """InputError unless ``output`` (if given) can be created or overwritten."""
    if output is None or output == "-":
        return
    path = Path(output)
    folder = path.parent if str(path.parent) else Path()
    if path.is_dir():
        raise InputError(f"{output}: expected a file to write, found a directory", field=field)
    if not folder.is_dir():
        raise InputError(
            f"{output}: expected an existing folder to write into, found no folder {folder}",
            field=field,
        )
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise InputError(
            f"{output}: expected a writable path, found "
            f"{'a read-only file' if path.exists() else 'a read-only folder'}",
            field=field,
        )


def write_output(env: Env, output: str | None, text: str) -> None:
    """``text`` to ``output`` (a file), or to stdout when there is none."""
    if output is None or output == "-":
        env.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as handle:  # noqa: PTH123
            handle.write(text)
    except OSError as exc:
        raise InputError(
            f"{output}: expected a writable path, found: {exc.strerror}", field="--output"
        ) from None
