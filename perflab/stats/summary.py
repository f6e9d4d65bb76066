"""Descriptive summary of one metric's samples: centre, spread, tail, median CI.

The median's confidence interval is distribution-free: a pair of order
statistics ``[x(l), x(n+1-l)]`` whose coverage follows from the binomial
distribution (Hahn & Meeker). With fewer than 6 samples no such pair reaches
95%; the interval is then ``[min, max]`` and ``median_ci_level`` says how much
confidence it actually carries (93.75% for 5 samples).

Percentiles use linear interpolation between order statistics (numpy's
default, the same as Excel's PERCENTILE.INC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from perflab.stats._common import (
    FloatArray,
    Samples,
    StatsInputError,
    as_array,
    check_fraction,
    jf,
    jpair,
)

PERCENTILES = (50.0, 90.0, 95.0, 99.0)
_KEYS = ("mean", "median", "stdev", "cv", "min", "max", "p50", "p90", "p95", "p99")


@dataclass(frozen=True)
class Summary:
    """Centre, spread and tail of one side's samples (NaN where undefined, e.g. stdev of 1)."""

    n: int
    mean: float
    median: float
    stdev: float
    cv: float
    min: float
    max: float
    p50: float
    p90: float
    p95: float
    p99: float
    median_ci: tuple[float, float]
    median_ci_level: float

    def to_dict(self) -> dict[str, Any]:
        values = (
            self.mean,
            self.median,
            self.stdev,
            self.cv,
            self.min,
            self.max,
            self.p50,
            self.p90,
            self.p95,
            self.p99,
        )
        # the usual case, every statistic defined, at C speed (20,000 of these in a
        # 10,000-row compare); else NaN and infinities become None one by one
        safe = map(float, values) if all(map(math.isfinite, values)) else map(jf, values)
        out: dict[str, Any] = {"n": self.n}
        out.update(zip(_KEYS, safe, strict=True))
        out["median_ci"] = jpair(self.median_ci)
        out["median_ci_level"] = jf(self.median_ci_level)
        return out

    def stat(self, name: str) -> float:
        """One statistic by its gate name (median, mean, p90, p95, p99, min, max)."""
        return float(getattr(self, name))


def summarize(samples: Samples, *, confidence: float = 0.95) -> Summary:
    """Summarise finite samples; raises StatsInputError for empty or non-finite input."""
    check_fraction("confidence", confidence, open_low=True)
    values = as_array(samples)
    if values is None or values.size == 0:
        raise StatsInputError("cannot summarise: no samples")
    if not np.all(np.isfinite(values)):
        raise StatsInputError("cannot summarise: samples contain NaN or infinite values")
    return summarize_rows(np.sort(values)[None, :], confidence)[0]


def summarize_rows(sorted_rows: FloatArray, confidence: float) -> list[Summary]:
    """Vectorised :func:`summarize` for an (m, n) matrix whose rows are sorted and finite."""
    m, n = sorted_rows.shape
    # samples near the float limit (1e308) overflow the sums: the mean and stdev are then
    # infinite (None in JSON), quietly, as the rest of the statistics are
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        mean = sorted_rows.mean(axis=1)
        stdev = sorted_rows.std(axis=1, ddof=1) if n > 1 else np.full(m, math.nan)
        cv = np.where(mean != 0, stdev / np.abs(mean), math.nan)
    pct = np.percentile(sorted_rows, PERCENTILES, axis=1)
    lo, hi, level = median_ci_ranks(n, confidence)
    cols = zip(
        mean.tolist(),
        stdev.tolist(),
        cv.tolist(),
        sorted_rows[:, 0].tolist(),
        sorted_rows[:, -1].tolist(),
        *pct.tolist(),
        sorted_rows[:, lo].tolist(),
        sorted_rows[:, hi].tolist(),
        strict=True,
    )
    return [
        Summary(
            n=n,
            mean=a,
            median=p50,
            stdev=sd,
            cv=c,
            min=low,
            max=high,
            p50=p50,
            p90=p90,
            p95=p95,
            p99=p99,
            median_ci=(ci_lo, ci_hi),
            median_ci_level=level,
        )
        for a, sd, c, low, high, p50, p90, p95, p99, ci_lo, ci_hi in cols
    ]


@lru_cache(maxsize=512)
def median_ci_ranks(n: int, confidence: float) -> tuple[int, int, float]:
    """0-based ranks (lo, hi) of the median's order-statistic CI and its exact coverage."""
    best = (0, n - 1, _coverage(n, 1))
    for low in range(2, n // 2 + 1):
        cover = _coverage(n, low)
        if cover < confidence:
            break
        best = (low - 1, n - low, cover)
    return best


def _coverage(n: int, low: int) -> float:
    """P(x(low) <= median <= x(n+1-low)) for continuous data, low 1-based."""
    below = sum(math.comb(n, k) for k in range(low)) / 2**n  # P(B <= low - 1), exact
    return float(1.0 - 2.0 * below)


def quantile_ci(
    sorted_values: FloatArray, q: float, confidence: float
) -> tuple[float, float, float]:
    """Distribution-free equal-tailed CI of the q-quantile: (lo, hi, coverage).

    A side that no order statistic can bound at this confidence is infinite
    (e.g. the upper bound of p99 from fewer than ~300 samples): the data
    cannot say how high p99 might be.
    """
    from scipy import stats as sps  # heavy: imported when first used

    n = sorted_values.size
    alpha = (1.0 - confidence) / 2.0
    cdf = sps.binom.cdf(np.arange(n + 1), n, q)  # cdf[k] = P(B <= k)
    lows = np.flatnonzero(cdf[:n] <= alpha)  # l-1 candidates: P(B <= l-1) <= alpha
    highs = np.flatnonzero(1.0 - cdf[:n] <= alpha)  # u-1 candidates: P(B >= u) <= alpha
    lo_rank = int(lows[-1]) + 1 if lows.size else 0  # 1-based l, 0 = unbounded
    hi_rank = int(highs[0]) + 1 if highs.size else n + 1
    lo = float(sorted_values[lo_rank - 1]) if lo_rank >= 1 else -math.inf
    hi = float(sorted_values[hi_rank - 1]) if hi_rank <= n else math.inf
    below = float(cdf[lo_rank - 1]) if lo_rank >= 1 else 0.0
    above = float(1.0 - cdf[hi_rank - 1]) if hi_rank <= n else 0.0
    return lo, hi, 1.0 - below - above
