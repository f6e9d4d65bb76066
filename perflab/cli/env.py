"""The command's environment: streams and output mode, passed in rather than global.

Tests construct an ``Env`` with ``io.StringIO`` streams and read what a
command printed and which exit status it chose, without patching anything.

Colour follows the common conventions, in this order: ``--no-color``, then
``NO_COLOR`` (set and not empty: https://no-color.org), then ``FORCE_COLOR``
(set, not empty and not "0": colour even into a pipe), else colour exactly
when the stream is a terminal. Without colour nothing styled is written at
all: no escape sequence in the tables, the progress bars or the error prefix.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from perflab.errors import ExitStatus

if TYPE_CHECKING:
    from rich.console import Console


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a command builds many small objects (a
    10,000-benchmark compare makes millions: the collector's passes over them were half
    the time of reading a run). What they hold is freed by reference counting as usual;
    the collector runs again when the block ends. For one-shot commands, not workers.

    What the block made is handed to the oldest generation unexamined (``freeze`` then
    ``unfreeze``: two list splices). Left in the youngest, the first allocation after
    the block would start a young-generation pass over all of it: 0.16 s of a 10,000-row
    compare, after its work was done. In the oldest generation it is still collected,
    by the next full pass, as any long-lived object is."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def preload(*modules: str) -> None:
    """Import the large modules a command is about to need, here, near the bottom of the
    call stack, instead of deep inside the call that first needs them.

    Why it matters (CPython 3.11): the interpreter keeps its frames in 16 KiB chunks and
    frees a chunk as soon as the frame at its start returns, so code that calls and
    returns across a chunk's edge maps and unmaps 16 KiB (and faults its pages in) on
    every call. numpy's import, nested about 25 modules deep under ``compare``'s store,
    sat on such an edge: strace counted 4,139 maps of 16 KiB in one ``compare --json``
    of 10,000 rows, 558 with numpy imported here first (about 0.06 s of system time;
    ``report``: 1,071 and 563). Where the edges fall moves as the code changes, so
    this is a mitigation measured at one commit, not a guarantee."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def dumps(data: Any, *, pretty: bool = True) -> str:
    """JSON text of ``data`` (compact unless ``pretty``): orjson, about six times faster
    than the standard encoder on a 10,000-row compare (its floats are the cost). Keys
    that are not strings become strings, numpy values are numbers, other objects their
    ``str``, as ``json.dumps(default=str)`` would; the caller maps NaN to None."""
    import orjson

    option = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    if pretty:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(data, default=str, option=option).decode()


@dataclass
class Env:
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    traceback: bool = False
    exit_status: int = int(ExitStatus.OK)
    no_color: bool = False  # --no-color
    #: what a command built and is done with, left to the process's exit rather than
    #: freed object by object (a 10,000-row comparison took 0.1 s to free; the command
    #: line exits without the interpreter's teardown, see cli.main.exit_now)
    kept: list[Any] = field(default_factory=list)

    def colour(self, stream: IO[str]) -> bool:
        """Whether to write colour (and other styles) to ``stream``: see the module."""
        if self.no_color or os.environ.get("NO_COLOR"):
            return False
        if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
            return True
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())

    @property
    def interactive(self) -> bool:
        """A person is watching stdout (progress bars make sense)."""
        isatty = getattr(self.stdout, "isatty", None)
        return bool(isatty and isatty())

    def console(self) -> Console:
        from rich.console import Console

        colour = self.colour(self.stdout)
        return Console(
            file=self.stdout,
            highlight=False,
            soft_wrap=False,
            width=None if self.interactive else 120,
            color_system="auto" if colour else None,
            force_terminal=True if colour and not self.interactive else None,
            no_color=not colour,
        )

    def print_json(self, data: Any, *, pretty: bool = True) -> None:
        """One JSON document on stdout, nothing else (``--json``). ``pretty=False``: one
        compact line through the C encoder (indenting goes through the pure-Python one:
        4.3 of 6.1 s of a 10,000-benchmark compare)."""
        self.stdout.write(dumps(data, pretty=pretty) + "\n")

    def error(self, line: str) -> None:
        prefix = "perflab: error: "
        if self.colour(self.stderr):
            prefix = "\x1b[31mperflab: error:\x1b[0m "
        self.stderr.write(prefix + line + "\n")

    def warn(self, line: str) -> None:
        self.stderr.write("perflab: warning: " + line + "\n")

    def note(self, line: str) -> None:
        """Something the user should know that changed nothing they asked for."""
        self.stderr.write("perflab: note: " + line + "\n")

    def fail(self, status: ExitStatus) -> None:
        """Set the exit status without raising (the output was already printed)."""
        self.exit_status = (
            max(self.exit_status, int(status)) if status != ExitStatus.INTERRUPTED else int(status)
        )
