"""Geometric-mean summary rows: one per (metric, direction) over many benchmarks.

The geometric mean of the per-benchmark median ratios is ``exp(mean(log r))``.
Its CI comes from the same bootstrap replicates as the rows: replicate b of
the summary is the mean over rows of each row's replicate b (rows' replicate
orders are rotated, so this behaves like resampling every row independently).
The verdict uses the CI against the noise band only; there is no rank test
for a mean of ratios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from perflab.stats._common import (
    Direction,
    FloatArray,
    IntArray,
    Verdict,
    exp,
    expm1,
    jf,
    jpair,
)
from perflab.stats.bootstrap import percentile_bounds
from perflab.stats.verdict import Evidence, decide


@dataclass(frozen=True)
class GeomeanRow:
    """Summary of many comparisons of one metric."""

    metric: str
    direction: Direction
    count: int
    excluded: int
    ratio: float | None
    ratio_ci: tuple[float, float] | None
    change: float | None
    verdict: Verdict
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "direction": self.direction, "count": self.count,
                "excluded": self.excluded, "ratio": jf(self.ratio),
                "ratio_ci": jpair(self.ratio_ci), "change": jf(self.change),
                "verdict": self.verdict, "reason": self.reason}


class GeomeanAccumulator:
    """Sums rows' log-ratio replicates per (metric, direction)."""

    def __init__(self) -> None:
        self._reps: dict[tuple[str, Direction], FloatArray] = {}
        self._points: dict[tuple[str, Direction], list[float]] = {}
        self._excluded: dict[tuple[str, Direction], int] = {}

    def exclude(self, key: tuple[str, Direction]) -> None:
        self._excluded[key] = self._excluded.get(key, 0) + 1

    def add(self, keys: list[tuple[str, Direction]], rows: IntArray, points: FloatArray,
            reps: FloatArray, offsets: IntArray) -> None:
        """Add replicates ``reps`` (k, B) of rows whose keys are ``keys[rows[j]]``.

        Row j is rotated by ``offsets[j]`` (its replicate (b + o) mod B lands in
        column b): rows share rank tables, and without the rotation their
        replicates would move together and inflate the summary's CI.
        """
        finite = np.all(np.isfinite(reps), axis=1) & np.isfinite(points)
        for j, row in enumerate(rows.tolist()):
            key = keys[row]
            if not finite[j]:
                self.exclude(key)
                continue
            if key not in self._reps:
                self._reps[key] = np.zeros(reps.shape[1])
                self._points[key] = []
            acc, shift = self._reps[key], int(offsets[j]) % reps.shape[1]
            acc[: acc.size - shift] += reps[j, shift:]
            acc[acc.size - shift:] += reps[j, :shift]
            self._points[key].append(float(points[j]))

    def rows(self, noise_band: float, confidence: float) -> list[GeomeanRow]:
        keys = sorted(set(self._reps) | set(self._excluded))
        return [self._row(key, noise_band, confidence) for key in keys]

    def _row(self, key: tuple[str, Direction], band: float, confidence: float) -> GeomeanRow:
        metric, direction = key
        excluded = self._excluded.get(key, 0)
        points = self._points.get(key, [])
        if not points:
            return GeomeanRow(metric, direction, 0, excluded, None, None, None, "not_comparable",
                              "no comparable benchmark for this metric")
        count = len(points)
        mean = float(np.mean(points))
        lo, hi = percentile_bounds(self._reps[key][None, :] / count, 1.0 - confidence)
        ci = (min(float(lo[0]), mean), max(float(hi[0]), mean))
        ev = Evidence(direction=direction, log_ratio=mean, ci=ci, decision_ci=ci,
                      confidence=confidence, decision_level=confidence, noise_band=band,
                      significant=None, test_text="", what=f"geometric mean of {count} ratios")
        verdict, reason = decide(ev)
        return GeomeanRow(metric, direction, count, excluded, exp(mean),
                          (exp(ci[0]), exp(ci[1])), expm1(mean), verdict, reason)
