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
def median_weights(n: int, half: int, seed: int, first: int) -> FloatArray:
    """(n, 2 half) matrix W with sorted_rows @ W = the replicate medians (mirrored halves).

    Column b holds 0.5 at ranks lo[b] and hi[b] (1.0 when they coincide): one
    matrix product computes every benchmark's replicates, exactly as
    (x[lo] + x[hi]) / 2 would (the halving is exact, the sum rounds once).
    """
    ranks = [median_ranks(n, half, seed, first), median_ranks(n, half, seed, 1 - first)]
    lo = np.concatenate([r[0] for r in ranks])
    hi = np.concatenate([r[1] for r in ranks])
    weights = np.zeros((n, 2 * half))
    cols = np.arange(2 * half)
    np.add.at(weights, (lo, cols), 0.5)
    np.add.at(weights, (hi, cols), 0.5)
    weights.flags.writeable = False
    return weights


def log_ratio_replicates(
    base_sorted: FloatArray, cand_sorted: FloatArray, *, resamples: int, seed: int
) -> FloatArray:
    """(m, B) bootstrap replicates of log(median(cand) / median(base)).

    All rows share the rank tables, so column b of different rows is
    correlated; rows are rotated before they are summed (see geomean).
    """
    half = even_resamples(resamples) // 2
    base = base_sorted @ median_weights(base_sorted.shape[1], half, seed, 0)
    cand = cand_sorted @ median_weights(cand_sorted.shape[1], half, seed, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(cand) - np.log(base)
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
    """Several percentile intervals from one partition of the replicates."""
    total = replicates.shape[1]
    ks = [min(int(np.floor(a / 2.0 * total)), total // 2 - 1) for a in alphas]
    kth = sorted(set(ks) | {total - 1 - k for k in ks})
    part = np.partition(replicates, kth, axis=1)
    return [(part[:, k], part[:, total - 1 - k]) for k in ks]


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
