"""Counted metrics (pure): what callgrind and perf stat counted, as perflab metrics.

A counted repetition's event carries ``counted`` (perflab/hostside/counting.py): the
events callgrind summed over the benchmark's processes (the wrapper shell left out), or
what ``perf stat`` read. They become these metrics, all lower-is-better::

    instructions      Ir                              callgrind
    l1_misses         I1mr + D1mr + D1mw              callgrind --cache-sim=yes
    ll_misses         ILmr + DLmr + DLmw              callgrind --cache-sim=yes
    estimated_cycles  Ir + 10 l1_misses + 100 ll_misses
    hw_cycles, hw_instructions, branch_misses, cache_misses     perf stat

``estimated_cycles`` weighs a first-level miss at 10 cycles and a last-level miss (a
trip to memory) at 100, as rough figures for current x86 and ARM cores; it ranks
changes in memory behaviour, it does not predict time (docs/counters.md).

With ``format: time`` a count is the whole command's. Tools that calibrate their own
iteration count report how many iterations they ran; the count is divided by that (per
op), which is exact only when the iteration count is fixed: Go's ``-test.benchtime=Nx``,
Google Benchmark's ``->Iterations(N)``. The process's start-up is in the count too, the
same on both sides of a comparison.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from perflab.errors import FormatError
from perflab.model import COUNTED_METRICS, ResultBuilder, ResultSet

L1_WEIGHT = 10
LL_WEIGHT = 100

#: metric -> unit (every counted metric is lower-is-better)
METRICS: dict[str, str] = {
    "instructions": "instructions",
    "l1_misses": "misses",
    "ll_misses": "misses",
    "estimated_cycles": "cycles",
    "hw_cycles": "cycles",
    "hw_instructions": "instructions",
    "branch_misses": "misses",
    "cache_misses": "misses",
}
_PERF = {
    "cycles": "hw_cycles",
    "instructions": "hw_instructions",
    "branch-misses": "branch_misses",
    "cache-misses": "cache_misses",
}
#: formats whose counts are divided by the iterations the tool reports
PER_OP = ("go", "gbench")
#: formats whose counts cannot be per op: Criterion runs warm-up iterations it never reports
NOT_COUNTABLE = {
    "criterion": "Criterion does not report its warm-up iterations, so no count "
    "per iteration is exact; count a binary that runs a fixed number "
    "of iterations with format: time",
    "auto": "a per-op count needs to know the tool; name the format",
}


def callgrind_metrics(events: Mapping[str, float]) -> dict[str, float]:
    out = {"instructions": float(events["Ir"])}
    if "I1mr" in events:
        l1 = sum(float(events.get(k, 0)) for k in ("I1mr", "D1mr", "D1mw"))
        ll = sum(float(events.get(k, 0)) for k in ("ILmr", "DLmr", "DLmw"))
        out.update(
            l1_misses=l1,
            ll_misses=ll,
            estimated_cycles=out["instructions"] + L1_WEIGHT * l1 + LL_WEIGHT * ll,
        )
    return out


def metrics_of(counted: Mapping[str, Any]) -> dict[str, float]:
    """Metric -> value of one counted repetition (events a host could not count are left
    out)."""
    events = counted.get("events") or {}
    if counted.get("tool") == "callgrind":
        if "Ir" not in events:
            raise FormatError("callgrind", "no Ir (instructions) in callgrind's output")
        return callgrind_metrics(events)
    return {_PERF[e]: float(v) for e, v in events.items() if e in _PERF and v is not None}


def go_iterations(text: str) -> int:
    from perflab.formats import go

    return sum(
        int(m.group(2)) for line in go._safe_lines(text) if (m := go._RESULT.match(line.text))
    )


def gbench_iterations(text: str) -> int:
    data = json.loads(text)
    rows = data.get("benchmarks") if isinstance(data, dict) else None
    return sum(
        int(r.get("iterations", 0))
        for r in rows or []
        if isinstance(r, dict) and r.get("run_type", "iteration") == "iteration"
    )


def per_op(fmt: str, text: str, parsed: ResultSet, where: str) -> tuple[str, int]:
    """(benchmark name, iterations) of a tool's output from a counted repetition."""
    names = [b.name for b in parsed.benchmarks]
    if len(names) != 1:
        raise FormatError(
            fmt,
            f"a counted repetition counts the whole process, so its output "
            f"must hold one benchmark, got {len(names)} "
            f"({', '.join(names[:3])}); select one (docs/counters.md)",
            where=where,
        )
    iterations = go_iterations(text) if fmt == "go" else gbench_iterations(text)
    if iterations <= 0:
        raise FormatError(
            fmt, "the tool reported no iterations to divide the count by", where=where
        )
    return names[0], iterations


def counted_result(name: str, counted: Mapping[str, Any], iterations: int = 1) -> ResultSet:
    """One sample of each counted metric for benchmark ``name`` (divided by
    ``iterations``); the near-exact ones are marked counted (perflab.model.COUNTED_METRICS),
    perf's cycles and misses are measurements that vary with the host."""
    builder = ResultBuilder()
    values = metrics_of(counted)
    if not values:
        raise FormatError(
            str(counted.get("tool")),
            "nothing was counted (every event <not supported> or <not counted> on this host)",
            where=name,
        )
    for metric, value in values.items():
        builder.add(name, metric, value / iterations, METRICS[metric], "lower")
        builder.result.benchmarks[0].metrics[metric].counted = metric in COUNTED_METRICS
    builder.result.meta.update({"counted": counted.get("tool"), "iterations": iterations})
    return builder.result
