"""Seeded, vectorised bootstrap.

The bootstrap median of a sorted sample is always one of its order statistics
(or the mean of two), and *which* ones depends only on the sample size, not on
the values. So the resampling is done once per (n, seed) on ranks, and then
applied to every benchmark with that n by one gather: comparing 10,000
benchmarks costs one table of ranks and a few array operations, not 10,000
resampling loops.

Reproducibility and symmetry: rank tables come from ``numpy.random.default_rng``
seeded with ``(seed, stream, n)``. The replicate set is mirrored (half the
replicates draw the baseline from stream 0 and the candidate from stream 1,
the other half the other way round), so swapping baseline and candidate
inverts every replicate ratio exactly: the CI of B/A is the inverse of the CI
of A/B, and "regressed" becomes "improved", never something else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from perflab.stats._common import FloatArray, IntArray

DEFAULT_RESAMPLES = 2000


def even_resamples(resamples: int) -> int:
    """The replicate count actually used: even (mirrored halves), at least 100."""
    return max(100, resamples + resamples % 2)


def median_ranks(n: int, half: int, seed: int, stream: int) -> tuple[IntArray, IntArray]:
    """Ranks (lo, hi) of each bootstrap replicate's median in the sorted sample of size n."""
    rng = np.random.default_rng([seed, stream, n])
    draws = np.sort(rng.integers(0, n, size=(half, n)), axis=1)
    return draws[:, (n - 1) // 2], draws[:, n // 2]


@lru_cache(maxsize=256)
def median_table(n: int, half: int, seed: int, first: int) -> tuple[IntArray, IntArray, IntArray]:
    """The replicate medians of a sorted sample of size n as ranks: the distinct (lo, hi)
    pairs and, for each of the 2 half replicates (mirrored halves), which pair is its.

    A replicate's median is (x[lo] + x[hi]) / 2, and 2,000 replicates of 30 values
    use only a few dozen pairs: computing those once per row and gathering is the
    cheap way to every row's replicates."""
    ranks = [median_ranks(n, half, seed, first), median_ranks(n, half, seed, 1 - first)]
    lo = np.concatenate([r[0] for r in ranks])
    hi = np.concatenate([r[1] for r in ranks])
    codes, inverse = np.unique(lo * n + hi, return_inverse=True)
    for array in (codes, inverse):
        array.flags.writeable = False
    return codes // n, codes % n, inverse


def log_median_replicates(
    sorted_rows: FloatArray, half: int, seed: int, first: int
) -> tuple[FloatArray, IntArray]:
    """log of the replicate medians of every row, as (m, pairs) distinct values and the
    (2 half,) index of each replicate's column: ``logs[:, which]`` is the full table.
    The median is (x[lo] + x[hi]) / 2: the sum rounds once, the halving is exact."""
    lo, hi, which = median_table(sorted_rows.shape[1], half, seed, first)
    with np.errstate(divide="ignore", over="ignore"):  # log(0) is -inf; near 1e308, inf
        return np.log((sorted_rows[:, lo] + sorted_rows[:, hi]) * 0.5), which


def log_ratio_replicates(
    base_sorted: FloatArray, cand_sorted: FloatArray, *, resamples: int, seed: int
) -> FloatArray:
    """(m, B) bootstrap replicates of log(median(cand) / median(base)).

    All rows share the rank tables, so column b of different rows is
    correlated; rows are rotated before they are summed (see geomean).
    """
    return log_ratio_from_tables(base_sorted, cand_sorted, even_resamples(resamples) // 2, seed)


def log_ratio_from_tables(
    base_sorted: FloatArray, cand_sorted: FloatArray, half: int, seed: int
) -> FloatArray:
    """log(cand replicate median) - log(base replicate median), (m, 2 half); a zero
    median on both sides (no ratio at all) is +inf, an interval the data cannot bound.
    A difference of logs, so swapping the sides negates every replicate exactly."""
    base, bwhich = log_median_replicates(base_sorted, half, seed, 0)
    cand, cwhich = log_median_replicates(cand_sorted, half, seed, 1)
    with np.errstate(invalid="ignore"):
        out = cand[:, cwhich] - base[:, bwhich]
    out[np.isnan(out)] = np.inf
    return out


def percentile_bounds(replicates: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed percentile interval at level 1 - alpha along axis 1 (symmetric ranks)."""
    total = replicates.shape[1]
    k = min(int(np.floor(alpha / 2.0 * total)), total // 2 - 1)
    part = np.partition(replicates, (k, total - 1 - k), axis=1)
    return part[:, k], part[:, total - 1 - k]


def percentile_bounds_multi(
    replicates: FloatArray, alphas: tuple[float, ...]
) -> list[tuple[FloatArray, FloatArray]]:
    """Several percentile intervals of the replicates (along axis 1), each as
    :func:`percentile_bounds` gives it.

    One partition at the innermost pair of ranks; an outer rank then lies in the short
    prefix (or suffix) before it, which is partitioned in turn: a decision level's
    extreme ranks cost a pass over a few dozen values, not over every replicate."""
    total = replicates.shape[1]
    ks = [min(int(np.floor(a / 2.0 * total)), total // 2 - 1) for a in alphas]
    found: dict[int, tuple[FloatArray, FloatArray]] = {}
    for k in sorted(set(ks), reverse=True):
        if not found:  # the innermost ranks, from the whole table
            part = np.partition(replicates, (k, total - 1 - k), axis=1)
            found[k] = (part[:, k], part[:, total - 1 - k])
            low, high = part[:, :k], part[:, total - k :]
        elif k == 0:
            found[k] = (low.min(axis=1), high.max(axis=1))
        else:  # low: the previous rank's k smallest, in any order; high: its k largest
            low = np.partition(low, k, axis=1)
            high = np.partition(high, high.shape[1] - 1 - k, axis=1)
            found[k] = (low[:, k], high[:, high.shape[1] - 1 - k])
            low, high = low[:, :k], high[:, high.shape[1] - k :]
    return [found[k] for k in ks]


def resample_stat(
    values: FloatArray,
    stat: Callable[[FloatArray], FloatArray],
    *,
    resamples: int,
    seed: int,
    stream: int,
) -> FloatArray:
    """Plain bootstrap of any statistic of one sample: ``stat`` maps (B, n) -> (B,)."""
    rng = np.random.default_rng([seed, stream, values.size])
    idx = rng.integers(0, values.size, size=(even_resamples(resamples), values.size))
    return stat(values[idx])
