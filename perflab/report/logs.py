"""A run's log text from the store, readable on any machine that shares the database
(what ``perflab jobs logs`` prints).

The order: ``harness.log`` (the harness's own messages), then each step's
stdout and stderr in the order the steps ran, then the harness's stream logs
when they were stored whole (a run stopped before its outputs were split per
step), then ``error.txt`` (why a run stopped, when it did). Each file starts
with a header line ``==> NAME <==``; a truncated file says so in its header.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.store import Store

FIRST = ("harness.log",)
LAST = ("steps/stdout.log", "steps/stderr.log", "error.txt")


@dataclass(frozen=True)
class LogPart:
    name: str  # the file's name in the run folder
    header: str  # "==> NAME <==", with "(truncated ...)" when the store kept part of it
    text: str  # the file's content, decoded as UTF-8 (bad bytes replaced)


def _stored_name(path: str | None, raw_dir: str | None) -> str | None:
    """A repetition's output path (on the machine that ran it) as a stored file's name."""
    if not path:
        return None
    if raw_dir and path.startswith(raw_dir.rstrip("/") + "/"):
        return path[len(raw_dir.rstrip("/")) + 1 :]
    return "steps/" + path.rsplit("/", 1)[-1]


def log_names(raw_dir: str | None, steps: list[dict[str, Any]]) -> list[str]:
    """The names of a run's log files, in the order they are shown."""
    names = [
        _stored_name(step.get(key), raw_dir)
        for step in steps
        for key in ("stdout_path", "stderr_path")
    ]
    return [*FIRST, *(name for name in names if name), *LAST]


def log_parts(store: Store, run_ref: str) -> Iterator[LogPart]:
    """The run's log files that are in the store, in order, one at a time."""
    run_id, raw_dir, steps = store.runs.outputs(run_ref)
    for stored in store.runs.read_files(run_id, log_names(raw_dir, steps)):
        note = (
            f" (truncated: the first and last part of {stored.size} bytes)"
            if stored.truncated
            else ""
        )
        yield LogPart(
            stored.name, f"==> {stored.name} <=={note}", stored.data.decode("utf-8", "replace")
        )


def run_log(store: Store, run_ref: str) -> str:
    """The run's log text: every log part with its header, empty files left out."""
    out = []
    for part in log_parts(store, run_ref):
        if part.text:
            out.append(part.header + "\n" + part.text + ("" if part.text.endswith("\n") else "\n"))
    return "".join(out)
