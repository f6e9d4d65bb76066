"""Deterministic metrics (allocs/op, B/op, counted instructions) compared exactly.

A count that the code determines is not noise: any change is a change, 0 -> 1
included, and identical samples are the expected case, not a warning. Each row
may carry a ``tolerance`` (a fraction of the baseline; 0 for an exact count, a
small band for counts with a little jitter such as instructions under
callgrind). The rule, on the baseline's and candidate's values:

* **same**: the medians agree within the tolerance and the value ranges overlap;
* **regressed / improved**: every candidate value lies beyond every baseline
  value by more than the tolerance (direction-aware), e.g. 0 -> 1 allocs/op;
* **unknown**: the values vary within a side and the ranges overlap while the
  medians differ: no exact change can be named.

No rank test, bootstrap or noise band is involved, and no quality flags are
raised (identical samples are what a count looks like).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from perflab.stats._common import FloatArray, Verdict, as_array, sample_problem
from perflab.stats.comparison import CompareInput, Comparison
from perflab.stats.summary import summarize_rows


def compare_exact(item: CompareInput, *, confidence: float, noise_band: float) -> Comparison:
    """The exact comparison of one deterministic metric (bad samples: not_comparable)."""
    base_row = Comparison(
        benchmark=item.benchmark,
        metric=item.metric,
        unit=item.unit,
        direction=item.direction,
        verdict="not_comparable",
        reason="",
        test="exact",
        noise_band=noise_band,
        confidence=confidence,
        exact=True,
    )
    problem = _problem(item)
    if problem is not None:
        return replace(base_row, reason=problem)
    base, cand = as_array(item.base or []), as_array(item.cand or [])
    assert base is not None and cand is not None
    verdict, reason = _decide(item, np.sort(base), np.sort(cand))
    mb, mc = float(np.median(base)), float(np.median(cand))
    ratio = mc / mb if mb > 0 else (1.0 if mc == 0 else math.inf)
    return replace(
        base_row,
        verdict=verdict,
        reason=reason,
        base=summarize_rows(np.sort(base)[None, :], confidence)[0],
        cand=summarize_rows(np.sort(cand)[None, :], confidence)[0],
        ratio=ratio,
        ratio_ci=(ratio, ratio),
        change=ratio - 1.0,
    )


def _problem(item: CompareInput) -> str | None:
    if item.direction not in ("lower", "higher"):
        return f'direction must be "lower" or "higher", got {item.direction!r}'
    for side, values in (("baseline", item.base), ("candidate", item.cand)):
        if values is None:
            return f"{side}: the metric is missing"
        found = sample_problem(values, item.unit)
        if found is not None:
            return f"{side}: {found}"
    return None


def _shown(values: FloatArray) -> str:
    low, high = float(values[0]), float(values[-1])
    return f"{low:g}" if low == high else f"{low:g}..{high:g}"


def _decide(item: CompareInput, base: FloatArray, cand: FloatArray) -> tuple[Verdict, str]:
    name = item.metric or "value"
    tol = item.tolerance
    slack = tol * float(np.median(base))
    within = f" within {tol:.2%}" if tol else ""
    mb, mc = float(np.median(base)), float(np.median(cand))
    up = float(cand[0]) > float(base[-1]) + slack
    down = float(cand[-1]) < float(base[0]) - slack
    if up or down:
        worse = up == (item.direction == "lower")
        verdict: Verdict = "regressed" if worse else "improved"
        return verdict, (
            f"{name} is deterministic and changed from {_shown(base)} to "
            f"{_shown(cand)} (compared exactly{within}): "
            f"{'worse' if worse else 'better'}"
        )
    if abs(mc - mb) <= slack:
        return "same", (
            f"{name} is deterministic and unchanged: {_shown(base)} vs "
            f"{_shown(cand)} (compared exactly{within})"
        )
    return "unknown", (
        f"{name} varies within a side ({_shown(base)} vs {_shown(cand)}, "
        f"medians {mb:g} and {mc:g}): the ranges overlap, so no exact change "
        "can be named"
    )
