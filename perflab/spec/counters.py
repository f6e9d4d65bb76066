"""The ``counters:`` key of a job or benchmark, and the ``counting:`` section (pure).

What each counter asks of a runner, and which tool counts it (docs/counters.md)::

    instructions  callgrind (valgrind)       instructions
    cache         callgrind --cache-sim=yes  instructions, l1_misses, ll_misses, estimated_cycles
    hw            perf stat                  hw_cycles, hw_instructions, branch_misses, cache_misses

Counted repetitions are separate from timed ones: ``counting.runs`` of each (default 1,
since counts repeat exactly) with their own timeout (default 1 h: callgrind runs a
program 20-100x slower than it runs alone).
"""

from __future__ import annotations

from dataclasses import dataclass

from perflab.facts.counting import COUNTERS, tools_for

__all__ = [
    "COUNTABLE_FORMATS",
    "COUNTERS",
    "DEFAULT_COUNT_RUNS",
    "DEFAULT_COUNT_TIMEOUT",
    "Counting",
    "count_request",
    "tools_for",
    "uncountable",
]

DEFAULT_COUNT_RUNS = 1
DEFAULT_COUNT_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Counting:
    """The ``counting:`` section: how many counted repetitions, and their time limit."""

    runs: int = DEFAULT_COUNT_RUNS
    timeout: float = DEFAULT_COUNT_TIMEOUT


def count_request(tool: str, counters: tuple[str, ...]) -> dict[str, object]:
    """What the harness wraps a counted repetition in (perflab/hostside/counting.py)."""
    if tool == "valgrind":
        return {"tool": "callgrind", "cache": "cache" in counters}
    return {"tool": "perf"}


#: formats whose output a counted repetition can be read with (docs/counters.md)
COUNTABLE_FORMATS = ("time", "go", "gbench")
_WHY_NOT = {
    "auto": "a count per iteration needs to know the tool; name the format",
    "criterion": "Criterion runs warm-up iterations it never reports, so no count per "
    "iteration is exact",
    "hyperfine": "hyperfine runs the command many times itself; count the command with "
    "format: time",
    "pytest-benchmark": "pytest-benchmark calibrates its rounds and never reports the "
    "calibration runs",
    "jmh": "JMH forks JVMs and warms the JIT; counts of it mislead (docs/counters.md)",
    "perflab": "the tool's own repetitions are not reported as iterations",
}


def uncountable(fmt: str) -> str | None:
    """Why a benchmark of format ``fmt`` cannot be counted, or None when it can."""
    if fmt in COUNTABLE_FORMATS:
        return None
    return _WHY_NOT.get(fmt, "its iterations are not known")
