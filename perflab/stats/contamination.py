"""The run-level ``contaminated`` flag from per-repetition evidence (pure).

The harness measures, for every measured repetition, how much of the benchmark's
CPUs' time other tasks used while it ran (``other_share``), the steal time the
hypervisor took (``steal_share``), the runnable tasks at the end and the
benchmark's own involuntary context switches (hostside/contention.py,
``Contention``). A repetition is *contaminated* when others used at least
:data:`REPETITION_SHARE` of its CPUs' time, or steal took that much; a run is
flagged when at least :data:`RUN_FRACTION` of its measured repetitions are (one
short burst of a cron job in a long run is not; a neighbour that stays is).

Why 10%: on a quiet shielded CPU of this VM the share stays below 2% (kernel
threads, the timer tick), and a pinned neighbour that is always runnable takes
about half of a CPU-bound benchmark's CPU (~50%); 10% is far from both, and a
neighbour costing a benchmark 10% of its CPU is already a change as large as the
ones perflab is asked to find.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

#: a repetition is contaminated when others (or steal) used this much of its CPUs
REPETITION_SHARE = 0.10
#: the run is flagged when at least this fraction of its measured repetitions were
RUN_FRACTION = 0.20


def _cpus_text(cpus: Sequence[int]) -> str:
    if not cpus:
        return "its CPUs"
    ordered = sorted(cpus)
    if len(ordered) == 1:
        return f"CPU {ordered[0]}"
    contiguous = ordered == list(range(ordered[0], ordered[-1] + 1))
    listed = f"{ordered[0]}-{ordered[-1]}" if contiguous else ",".join(map(str, ordered))
    return f"CPUs {listed}"


def _share(rep: Mapping[str, Any], key: str) -> float:
    value = rep.get(key)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


def contamination_flag(
    repetitions: Sequence[Mapping[str, Any]], cpus: Sequence[int]
) -> dict[str, Any] | None:
    """The ``contaminated`` flag for a run's repetitions (rows as the store keeps them:
    ``kind``, ``other_share``, ``steal_share``, ``nivcsw``, ``runnable``), or None.

    Only measured repetitions (kind ``run``) with evidence count."""
    measured = [
        r for r in repetitions if r.get("kind") == "run" and r.get("other_share") is not None
    ]
    if not measured:
        return None
    hit = [
        r
        for r in measured
        if max(_share(r, "other_share"), _share(r, "steal_share")) >= REPETITION_SHARE
    ]
    if not hit or len(hit) < RUN_FRACTION * len(measured):
        return None
    other = statistics.median(_share(r, "other_share") for r in hit)
    steal = statistics.median(_share(r, "steal_share") for r in hit)
    nivcsw = statistics.median(int(r.get("nivcsw") or 0) for r in hit)
    where = _cpus_text(cpus)
    parts = [
        f"other processes used {other:.0%} of {where} during {len(hit)}/{len(measured)} repetitions"
    ]
    if steal >= REPETITION_SHARE / 2:
        parts.append(f"the hypervisor stole {steal:.0%}")
    parts.append(f"the benchmark was preempted {nivcsw:g} times per repetition (median)")
    message = "; ".join(parts) + (
        ": its numbers measure the neighbours as much as the code; "
        "prepare the runner (perflab prepare RUNNER --profile shield) "
        "or find what runs there (results show lists the top "
        "processes)"
    )
    return {
        "code": "contaminated",
        "severity": "warning",
        "message": message,
        "evidence": {
            "cpus": list(cpus),
            "repetitions": len(measured),
            "contaminated": len(hit),
            "other_share": other,
            "steal_share": steal,
            "nivcsw": nivcsw,
            "max_other_share": max(_share(r, "other_share") for r in hit),
            "threshold": REPETITION_SHARE,
            "run_fraction": RUN_FRACTION,
        },
    }
