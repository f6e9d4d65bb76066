"""Change points in a metric's history: E-divisive means with a t-test merge step.

The method of Hunter/Apache Otava (Fleming et al., "Hunter: Using Change Point
Detection to Hunt for Performance Regressions", ICPE 2023), written anew:

1. **Split.** Slide a window of ``window`` points over the series in steps of
   half a window (restarting at the last change point found). Inside each
   window run E-divisive (Matteson & James 2014): find the split that
   maximises the energy-distance statistic Q between the part before and a
   stretch after it, accept it if a two-sample Student t-test of the two
   sides gives p <= a relaxed threshold (10x ``pvalue`` below 0.05), and
   repeat within the resulting segments. The union is the "weak" change points.
2. **Merge.** Re-test every weak point against its neighbouring segments and
   repeatedly drop the weakest (the highest p-value above ``pvalue``, or else
   the smallest magnitude if it is <= ``min_magnitude``), re-testing its two
   neighbours after each removal.

The index of a change point is the first point of the new regime.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from perflab.stats._common import FloatArray, StatsInputError, check_count, check_fraction, jf


@dataclass(frozen=True)
class ChangePoint:
    """A change at ``index`` (the first point after it) and its evidence."""

    index: int
    before_mean: float
    after_mean: float
    before_stdev: float
    after_stdev: float
    change: float  # after_mean / before_mean - 1
    magnitude: float  # max(|after/before - 1|, |before/after - 1|)
    pvalue: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "before_mean": jf(self.before_mean),
            "after_mean": jf(self.after_mean),
            "before_stdev": jf(self.before_stdev),
            "after_stdev": jf(self.after_stdev),
            "change": jf(self.change),
            "magnitude": jf(self.magnitude),
            "pvalue": jf(self.pvalue),
        }


def change_points(
    series: Sequence[float] | FloatArray,
    *,
    pvalue: float = 0.001,
    min_magnitude: float = 0.0,
    window: int = 50,
    min_size: int = 2,
) -> list[ChangePoint]:
    """Change points of a series in time order (StatsInputError for NaN/inf or bad settings).

    ``min_size``: fewest points a regime must have. The default 2 treats one odd
    run as an outlier, not a regime (Otava allows 1); a larger value reports
    only regimes that lasted, and a new change only once it has lasted that long.
    """
    check_fraction("pvalue", pvalue, open_low=True)
    check_fraction("min_magnitude", min_magnitude, high=math.inf)
    check_count("min_size", min_size, 1)
    check_count("window", window, max(3, 2 * min_size))
    x = np.asarray(series, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise StatsInputError("the series contains NaN or infinite values", field="series")
    if x.size < 3:
        return []
    weak = _split(x, window, _relaxed(pvalue), min_size)
    return _merge(x, weak, pvalue, min_magnitude)


def _relaxed(pvalue: float) -> float:
    """The first-pass threshold: weak points are kept generously, the merge step decides."""
    if pvalue < 0.05:
        return pvalue * 10.0
    return min(pvalue * 2.0, 1.0) if pvalue < 0.5 else pvalue


def _split(x: FloatArray, window: int, threshold: float, min_size: int) -> list[int]:
    found: set[int] = set()
    start, step = 0, max(1, window // 2)
    while start < x.size:
        stop = min(start + window, x.size)
        local = [start + i for i in _e_divisive(x[start:stop], threshold, min_size)]
        found.update(local)
        start = max(max(local, default=0), start + step)
    return sorted(found)


def _e_divisive(x: FloatArray, threshold: float, min_size: int) -> list[int]:
    """Hierarchical E-divisive inside one window; returns accepted indices (sorted)."""
    points: list[int] = []
    while True:
        bounds = [0, *points, x.size]
        best: tuple[float, int, int, int] | None = None
        for lo, hi in pairwise(bounds):
            if hi - lo >= max(3, 2 * min_size):
                q, tau = _best_split(x[lo:hi], min_size)
                if best is None or q > best[0]:
                    best = (q, lo + tau, lo, hi)
        if best is None:
            return points
        _, tau, lo, hi = best
        if _ttest(x[lo:tau], x[tau:hi]) > threshold:
            return points
        points = sorted([*points, tau])


def _best_split(x: FloatArray, min_size: int) -> tuple[float, int]:
    """Max over (tau, kappa) of the energy statistic Q(x[:tau], x[tau:kappa]); returns (Q, tau).

    Both x[:tau] and x[tau:] keep at least ``min_size`` points (the t-test then
    compares the whole segments), and so does x[tau:kappa].
    """
    n = x.size
    dist = np.abs(x[:, None] - x[None, :])
    pre = np.zeros((n + 1, n + 1))
    pre[1:, 1:] = dist.cumsum(axis=0).cumsum(axis=1)
    tau, kappa = np.meshgrid(np.arange(1, n), np.arange(2, n + 1), indexing="ij")
    valid = (kappa - tau >= min_size) & (tau >= min_size) & (n - tau >= min_size)

    def rect(a: Any, b: Any, c: Any, d: Any) -> FloatArray:
        return np.asarray(pre[b, d] - pre[a, d] - pre[b, c] + pre[a, c])

    n1, n2 = tau.astype(np.float64), (kappa - tau).astype(np.float64)
    between = rect(0, tau, tau, kappa)
    within_x = rect(0, tau, 0, tau) / 2.0
    within_y = rect(tau, kappa, tau, kappa) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        energy = (
            2.0 * between / (n1 * np.maximum(n2, 1))
            - np.where(n1 > 1, within_x / (n1 * (n1 - 1) / 2.0), 0.0)
            - np.where(n2 > 1, within_y / (n2 * (n2 - 1) / 2.0), 0.0)
        )
        q = np.where(valid, n1 * n2 / (n1 + n2) * energy, -np.inf)
    flat = int(np.argmax(q))
    return float(q.flat[flat]), int(tau.flat[flat])


def _ttest(left: FloatArray, right: FloatArray) -> float:
    """Two-sided Student t-test (pooled variance) p-value; 1.0 if it cannot be computed."""
    from scipy import stats as sps  # heavy: imported when first used

    n1, n2 = left.size, right.size
    df = n1 + n2 - 2
    if n1 == 0 or n2 == 0 or df <= 0:
        return 1.0
    diff = float(right.mean() - left.mean())
    ss = float(((left - left.mean()) ** 2).sum() + ((right - right.mean()) ** 2).sum())
    se = math.sqrt(ss / df * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return 0.0 if diff != 0.0 else 1.0
    return float(2.0 * sps.t.sf(abs(diff / se), df))


def _point(x: FloatArray, lo: int, index: int, hi: int) -> ChangePoint:
    left, right = x[lo:index], x[index:hi]
    before, after = float(left.mean()), float(right.mean())
    change = after / before - 1.0 if before != 0 else math.inf
    back = before / after - 1.0 if after != 0 else math.inf
    return ChangePoint(
        index=index,
        before_mean=before,
        after_mean=after,
        before_stdev=float(left.std(ddof=1)) if left.size > 1 else 0.0,
        after_stdev=float(right.std(ddof=1)) if right.size > 1 else 0.0,
        change=change,
        magnitude=max(abs(change), abs(back)),
        pvalue=_ttest(left, right),
    )


def _retest(x: FloatArray, indices: list[int]) -> list[ChangePoint]:
    bounds = [0, *indices, x.size]
    return [_point(x, bounds[i], bounds[i + 1], bounds[i + 2]) for i in range(len(indices))]


def _merge(
    x: FloatArray, weak: list[int], pvalue: float, min_magnitude: float
) -> list[ChangePoint]:
    points = _retest(x, weak)
    while points:
        worst = max(range(len(points)), key=lambda i: points[i].pvalue)
        if points[worst].pvalue <= pvalue:
            worst = min(range(len(points)), key=lambda i: points[i].magnitude)
            if points[worst].magnitude > min_magnitude:
                break
        del points[worst]
        bounds = [0, *(p.index for p in points), x.size]
        for i in (worst - 1, worst):
            if 0 <= i < len(points):
                points[i] = _point(x, bounds[i], bounds[i + 1], bounds[i + 2])
    return points
