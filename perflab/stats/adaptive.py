"""Adaptive repetitions: while the verdict is unknown, how many more runs to add.

A pure decision helper. It estimates the sample size at which the CI would
clear the nearest band edge: the CI's half-width h shrinks like 1/sqrt(n), so
with the point estimate at distance d from the edge, about n * (h/d)^2 samples
are needed. When only the candidate gets more runs (a stored baseline), the
baseline's share of the CI width cannot shrink; if it alone is wider than d,
more candidate runs cannot decide and the plan says so. In A/B mode both
sides grow together.

Runs drift: a comparison whose sides are runs (hierarchical rows) allows for the
run-to-run spread, and more repetitions of the same run do not shrink that
part. When it alone is wider than the distance to the band edge, the sides
disagree more than their own samples allow, and adding runs would only make a
bias look confident: the plan stops with "run-level drift: interleave (ab:) or
repeat the baseline" (``RUN_DRIFT``), and the verdict stays unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from perflab.stats._common import jf
from perflab.stats.comparison import Comparison
from perflab.stats.significance import min_samples_for

RUN_DRIFT = "run-level drift: interleave (ab:) or repeat the baseline"


@dataclass(frozen=True)
class Budget:
    """How many runs a side may have in total, and how much time the job may take."""

    max_runs: int | None = None
    max_time: float | None = None  # seconds for the whole job
    time_per_run: float | None = None  # seconds one more run (or A/B pair) costs
    elapsed: float = 0.0  # seconds spent so far


@dataclass(frozen=True)
class RepetitionPlan:
    """``add`` more runs (0: stop), and why."""

    add: int
    reason: str
    target_n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"add": self.add, "reason": self.reason, "target_n": jf(self.target_n)}


def plan_repetitions(
    comparison: Comparison,
    budget: Budget,
    *,
    grows: Literal["cand", "both"] = "cand",
    alpha: float = 0.05,
    min_step: int = 2,
    max_step: int | None = None,
) -> RepetitionPlan:
    """Whether to add repetitions to decide an ``unknown`` comparison, and how many."""
    if comparison.verdict != "unknown":
        why = (
            "the data cannot be compared: " + comparison.reason
            if comparison.verdict == "not_comparable"
            else f"decided: {comparison.verdict}"
        )
        return RepetitionPlan(0, why)
    base, cand = comparison.base, comparison.cand
    if base is None or cand is None:
        return RepetitionPlan(0, "no summaries to plan from")
    room = _room(budget, cand.n)
    if room is None:
        return RepetitionPlan(0, "no budget for adaptive repetitions (set max_runs or max_time)")
    target, why = _target(comparison, grows, alpha)
    if target is None:
        return RepetitionPlan(0, why)
    if room <= 0:
        return RepetitionPlan(0, f"budget exhausted at {cand.n} runs; {why}", target)
    add = min(max(target - cand.n, min_step), room)
    if max_step is not None:
        add = min(add, max_step)
    tail = "" if target - cand.n <= room else f" (the budget allows only {room} more)"
    return RepetitionPlan(add, f"{why}; adding {add}{tail}", target)


def _room(budget: Budget, n: int) -> int | None:
    limits: list[int] = []
    if budget.max_runs is not None:
        limits.append(budget.max_runs - n)
    if budget.max_time is not None and budget.time_per_run:
        limits.append(int((budget.max_time - budget.elapsed) // budget.time_per_run))
    return min(limits) if limits else None


def _target(c: Comparison, grows: str, alpha: float) -> tuple[int | None, str]:
    assert c.base is not None and c.cand is not None and c.ratio_ci is not None
    nb, nc = c.base.n, c.cand.n
    need = min_samples_for(alpha, nb if grows == "cand" else None)
    if nc < need:
        return need, f"{nc} runs are too few for the rank test, {need} are needed"
    edge = math.log1p(c.noise_band)
    point = math.log(c.ratio or 1.0)
    lo, hi = (math.log(v) if v > 0 else -math.inf for v in c.ratio_ci)
    half, dist = (hi - lo) / 2.0, abs(abs(point) - edge)
    drift = run_level_drift(c, dist)
    if drift is not None:
        return None, drift
    if not math.isfinite(half) or dist < 1e-3 * max(edge, 1e-6):
        return None, "the estimate sits on the edge of the noise band: more runs will not settle it"
    if grows == "both":
        return (
            _ceil(nc * (half / dist) ** 2),
            f"about {_ceil(nc * (half / dist) ** 2)} runs "
            "per side should narrow the CI enough to decide",
        )
    wb, wc = c.base.cv**2 / nb, c.cand.cv**2 / nc
    share_b = wb / (wb + wc) if wb + wc > 0 else 0.5
    base_part, cand_part = half**2 * share_b, half**2 * (1 - share_b)
    if base_part >= dist**2:
        return None, (
            "the baseline's own uncertainty is wider than the distance to the band "
            "edge: more candidate runs cannot decide; re-measure the baseline"
        )
    target = _ceil(nc * cand_part / (dist**2 - base_part))
    return target, f"about {target} candidate runs should narrow the CI enough to decide"


def _ceil(value: float) -> int:
    return math.ceil(value) if math.isfinite(value) else 10**9


def run_level_drift(c: Comparison, dist: float) -> str | None:
    """The stop reason when the run-to-run spread alone keeps the CI across the band edge
    (more repetitions of this run cannot move it), else None."""
    from statistics import NormalDist

    from perflab.stats.hierarchy import MIN_RESAMPLED_RUNS

    if c.runs is None or not c.run_spread:
        return None
    parts = sum(1.0 / n for n in c.runs if n < MIN_RESAMPLED_RUNS)
    z = NormalDist().inv_cdf(1.0 - (1.0 - c.confidence) / 2.0)
    run_half = z * c.run_spread * math.sqrt(parts)
    if run_half < dist or c.change is None:
        return None
    return (
        f"{RUN_DRIFT}: the sides differ by {c.change:+.1%}, and the run-to-run spread "
        f"({c.run_spread:.1%} a run, {c.runs[0]} baseline and {c.runs[1]} candidate "
        f"run(s)) alone spans ±{math.expm1(run_half):.1%}; more repetitions of this run "
        "cannot tell a change from drift"
    )
