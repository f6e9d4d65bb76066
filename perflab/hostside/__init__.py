"""Helpers that run *on* a runner, sent there for one command and gone afterwards.

Each module here is a self-contained, standard-library-only Python 3.8+ script:
it reads one JSON request on stdin and writes JSON to stdout. The transport
ships its source with ``python3 -c`` (see ``Transport.call_hostside``), so
perflab stays agentless: nothing resident on a runner between jobs. Batching
work into one helper call keeps SSH round trips (~0.1 s each) few.

These modules must not import anything from perflab. A helper sent with others (the
harness with counting, contention and spawn: ``_WITH``) finds their names already
defined in the one script; only when it is imported as a module (tests, type checks)
does it import them from its neighbours.
"""

from __future__ import annotations

import functools
from pathlib import Path

_HERE = Path(__file__).resolve().parent
#: helpers sent with another, their text first (the harness calls counting's functions)
_WITH: dict[str, tuple[str, ...]] = {"harness": ("counting", "contention", "spawn")}


@functools.cache
def source(module: str) -> str:
    """The source text of ``perflab/hostside/<module>.py`` (after the helpers it uses)."""
    path = _HERE / f"{module}.py"
    if not path.is_file():
        raise ValueError(f"no host-side helper named {module!r}")
    parts = [source(extra) for extra in _WITH.get(module, ())]
    return "\n".join([*parts, path.read_text(encoding="utf-8")])
