"""Geometric-mean summary rows: one per (metric, direction) over many benchmarks.

The geometric mean of the per-benchmark median ratios is ``exp(mean(log r))``.
Its CI comes from the same bootstrap replicates as the rows: replicate b of
the summary is the mean over rows of each row's replicate b (rows' replicate
orders are rotated, so this behaves like resampling every row independently).
The verdict uses the CI against the noise band only; there is no rank test
for a mean of ratios.

A summary claims a verdict only when its CI comes from resampling whole
processes (and runs): rows grouped by run and process (hierarchical) or A/B
pairs, whose replicates are drawn jointly for every benchmark. Rows of
independent samples (result files, the pure API without groups) share neither
processes nor runs, and their summed replicates would understate the spread
(one slow process slows every benchmark it ran): the summary then shows its
ratio and CI with the verdict ``unknown``. A summary over a row that could not
be measured (contamination, a failed noise probe) is ``unknown`` too, and so
is one whose CI lies beyond the band while no benchmark of its metric is
confirmed by its own test to have moved that way (compare.py): interleaved A/A
runs of Go's sort benchmarks at 30-60% CV gave summaries of -14% and +11%
"beyond the band" with every row unknown.
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
    fmt_pct,
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
        return {
            "metric": self.metric,
            "direction": self.direction,
            "count": self.count,
            "excluded": self.excluded,
            "ratio": jf(self.ratio),
            "ratio_ci": jpair(self.ratio_ci),
            "change": jf(self.change),
            "verdict": self.verdict,
            "reason": self.reason,
        }


class GeomeanAccumulator:
    """Sums rows' log-ratio replicates per (metric, direction)."""

    def __init__(self) -> None:
        self._reps: dict[tuple[str, Direction], FloatArray] = {}
        self._points: dict[tuple[str, Direction], list[float]] = {}
        self._excluded: dict[tuple[str, Direction], int] = {}
        self._loose: dict[tuple[str, Direction], int] = {}  # rows not process-resampled
        self._unmeasured: dict[tuple[str, Direction], int] = {}

    def exclude(self, key: tuple[str, Direction]) -> None:
        self._excluded[key] = self._excluded.get(key, 0) + 1

    def unmeasured(self, key: tuple[str, Direction]) -> None:
        """A row of this key could not be measured: the summary gets no verdict."""
        self._unmeasured[key] = self._unmeasured.get(key, 0) + 1

    def add(
        self,
        keys: list[tuple[str, Direction]],
        rows: IntArray,
        points: FloatArray,
        reps: FloatArray,
        offsets: IntArray,
        *,
        resampled: bool = False,
    ) -> None:
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
            if not resampled:
                self._loose[key] = self._loose.get(key, 0) + 1
            acc, shift = self._reps[key], int(offsets[j]) % reps.shape[1]
            acc[: acc.size - shift] += reps[j, shift:]
            acc[acc.size - shift :] += reps[j, :shift]
            self._points[key].append(float(points[j]))

    def rows(self, noise_band: float, confidence: float) -> list[GeomeanRow]:
        keys = sorted(set(self._reps) | set(self._excluded))
        return [self._row(key, noise_band, confidence) for key in keys]

    def _row(self, key: tuple[str, Direction], band: float, confidence: float) -> GeomeanRow:
        metric, direction = key
        excluded = self._excluded.get(key, 0)
        points = self._points.get(key, [])
        if not points:
            return GeomeanRow(
                metric,
                direction,
                0,
                excluded,
                None,
                None,
                None,
                "not_comparable",
                "no comparable benchmark for this metric",
            )
        count = len(points)
        mean = float(np.mean(points))
        lo, hi = percentile_bounds(self._reps[key][None, :] / count, 1.0 - confidence)
        ci = (min(float(lo[0]), mean), max(float(hi[0]), mean))
        ev = Evidence(
            direction=direction,
            log_ratio=mean,
            ci=ci,
            decision_ci=ci,
            confidence=confidence,
            decision_level=confidence,
            noise_band=band,
            significant=None,
            test_text="",
            what=f"geometric mean of {count} ratios",
        )
        verdict, reason = decide(ev)
        unmeasured, loose = self._unmeasured.get(key, 0), self._loose.get(key, 0)
        if unmeasured:
            verdict, reason = (
                "unknown",
                (
                    f"no verdict: {unmeasured} of the rows could not be measured (see their "
                    f"reasons); geometric mean of {count} ratios {fmt_pct(expm1(mean))}"
                ),
            )
        elif loose:
            verdict, reason = (
                "unknown",
                (
                    f"no verdict: {loose} of {count} rows are samples not known to come from "
                    "separate processes and runs (no run and process labels), so no test "
                    "resamples them as a whole; geometric mean of the ratios "
                    f"{fmt_pct(expm1(mean))} (CI {fmt_pct(expm1(ci[0]))} .. "
                    f"{fmt_pct(expm1(ci[1]))}, from independent rows)"
                ),
            )
        return GeomeanRow(
            metric,
            direction,
            count,
            excluded,
            exp(mean),
            (exp(ci[0]), exp(ci[1])),
            expm1(mean),
            verdict,
            reason,
        )
