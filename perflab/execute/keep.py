"""When a run ends, the files of its run folder go into the store.

The run folder (``$PERFLAB_HOME/runs/<id>``) is the executing machine's
working area and stays; the store's copy (:mod:`perflab.store.files`) is what
every other controller and worker reads: ``results files|cat`` and
``jobs logs``. Two files are not stored twice:

- ``result.json``, the run as stored (``results show --json`` rebuilds it);
- ``steps/stdout.log`` and ``steps/stderr.log``, the harness's streams, when
  the steps' own files (``steps/<step>.stdout`` ...) are cut from them whole,
  that is when their sizes add up to the log's. Otherwise (a run stopped
  before its outputs were split) the logs are stored.

Symbolic links are not followed. The order decides what a run over its total
keeps: the evidence at the top of the folder first, then the steps in the
order they ran, then artifacts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from perflab.store.files import Source

if TYPE_CHECKING:
    from perflab.store import Store
    from perflab.store.files import Kept, Limits

SKIP = {"result.json"}
STREAMS = {"stdout": "steps/stdout.log", "stderr": "steps/stderr.log"}


def _files(folder: str, prefix: str = "") -> dict[str, tuple[str, int]]:
    """Regular files under ``folder``: name -> (path, size); links are not followed
    (``os.scandir``: a run folder holds thousands of small files, and ``pathlib`` costs
    more than reading them)."""
    found = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                found.update(_files(entry.path, f"{prefix}{entry.name}/"))
            elif entry.is_file(follow_symlinks=False):
                found[prefix + entry.name] = (entry.path, entry.stat(follow_symlinks=False).st_size)
    return found


def _order(name: str) -> tuple[int, list[object]]:
    """Top-level files, then steps, then artifacts, then the rest; numbers by value
    (``b0-r2`` before ``b0-r10``)."""
    top = name.split("/", 1)[0] if "/" in name else ""
    rank = {"": 0, "steps": 1, "artifacts": 2}.get(top, 3)
    return rank, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _opener(path: str) -> Callable[[], BinaryIO]:
    return lambda: open(path, "rb")  # noqa: PTH123 (thousands of files: pathlib costs)


def _covered(sizes: dict[str, int]) -> set[str]:
    """The harness's stream logs that the steps' own files hold whole."""
    parts = dict.fromkeys(STREAMS, 0)
    for name, size in sizes.items():
        stream = name.rsplit(".", 1)[-1]
        if stream in parts and name.startswith("steps/"):
            parts[stream] += size
    return {log for stream, log in STREAMS.items() if sizes.get(log) == parts[stream]}


def sources(folder: Path) -> list[Source]:
    """What of ``folder`` goes into the store, in the order it is stored."""
    files = _files(str(folder))
    sizes = {name: size for name, (_path, size) in files.items()}
    skip = SKIP | _covered(sizes)
    return [
        Source(name, sizes[name], _opener(files[name][0]))
        for name in sorted(files, key=_order)
        if name not in skip
    ]


def keep_files(
    store: Store, run_id: str, folder: Path, limits: Limits | None = None
) -> Kept | None:
    """Put the run folder's files into the store, within ``limits`` (default: from the
    environment); None when there is no folder."""
    if not folder.is_dir():
        return None
    return store.runs.put_files(run_id, sources(folder), limits)
