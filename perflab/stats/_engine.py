"""Vectorised per-group work behind :func:`perflab.stats.compare.compare_many`.

Rows with the same (baseline n, candidate n) form a group and are handled as
matrices: summaries, flags, Mann-Whitney U, and the median-ratio bootstrap in
row chunks that keep memory bounded (about 262,000 replicates, 2 MB, a chunk: arrays
that small are reused by malloc instead of being mapped and faulted in again, which cost
a 10,000-row compare a third of a second of system time), two chunks at a time on two
threads (:func:`in_order`).
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from perflab.stats._common import FloatArray, IntArray
from perflab.stats.bootstrap import log_ratio_replicates, percentile_bounds_multi
from perflab.stats.quality import Flag, flag_rows
from perflab.stats.significance import band_pvalues, min_mwu_pvalue, mwu_pvalues
from perflab.stats.summary import Summary, summarize_rows

CHUNK_REPLICATES = 262_144  # replicates a row chunk holds: 2 MB arrays, reused by malloc
#: row chunks in flight at once: numpy releases the GIL in the gathers, the arithmetic
#: and the partitions, so two chunks use two cores (at most this many chunks of
#: replicates are held, so memory stays bounded)
WORKERS = max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))
#: rows of a group from which phase one's parts run on WORKERS threads (fewer: one thread)
PARALLEL_ROWS = 2_000


@dataclass(frozen=True)
class Settings:
    noise_band: float
    confidence: float
    fdr: float | None
    seed: int
    resamples: int
    cv_limit: float
    expected_tail: float | None
    trend_min: float


@dataclass
class RowStats:
    """Everything about one comparable row except its interval and verdict."""

    base: Summary
    cand: Summary
    base_flags: list[Flag]
    cand_flags: list[Flag]
    pvalue: float  # two-sided: any difference
    band_pvalue: float  # H0: the shift is within the noise band (decides, enters BH)
    min_pvalue: float
    log_ratio: float
    test: str


def group_stats(base_rows: FloatArray, cand_rows: FloatArray, st: Settings) -> list[RowStats]:
    """Phase 1 for a group: summaries, flags and p-values (no resampling)."""
    nb, nc = base_rows.shape[1], cand_rows.shape[1]
    alpha = st.fdr if st.fdr is not None else 1.0 - st.confidence

    def side(rows: FloatArray, other_n: int) -> tuple[list[Summary], list[list[Flag]]]:
        return (
            summarize_rows(np.sort(rows, axis=1), st.confidence),
            _flags(rows, other_n, alpha, st),
        )

    def tests() -> tuple[FloatArray, FloatArray]:
        return mwu_pvalues(base_rows, cand_rows), band_pvalues(base_rows, cand_rows, st.noise_band)

    # three independent parts, on two threads when the rows are many (numpy releases the
    # GIL in the sorts and reductions that are most of their time)
    if WORKERS > 1 and base_rows.shape[0] >= PARALLEL_ROWS:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            later = pool.submit(side, cand_rows, nb), pool.submit(tests)
            bs, bf = side(base_rows, nc)
            (cs, cf), (pv, bp) = later[0].result(), later[1].result()
    else:
        (bs, bf), (cs, cf), (pv, bp) = side(base_rows, nc), side(cand_rows, nb), tests()
    floor = min_mwu_pvalue(nb, nc)
    return [
        RowStats(
            bs[i],
            cs[i],
            bf[i],
            cf[i],
            float(pv[i]),
            float(bp[i]),
            floor,
            math.log(cs[i].median) - math.log(bs[i].median),
            "mann-whitney-u",
        )
        for i in range(base_rows.shape[0])
    ]


def _flags(rows: FloatArray, other_n: int, alpha: float, st: Settings) -> list[list[Flag]]:
    return flag_rows(
        rows,
        cv_limit=st.cv_limit,
        expected_tail=st.expected_tail,
        alpha=alpha,
        other_n=other_n,
        trend_min=st.trend_min,
    )


T = TypeVar("T")
R = TypeVar("R")


def in_order(work: Callable[[T], R], items: Iterable[T], *, workers: int = WORKERS) -> Iterator[R]:
    """``map(work, items)`` computed by up to ``workers`` threads, results in order, no
    more than ``workers`` computed ahead of the consumer (the order of what the consumer
    adds up, and so every sum, is the same as one thread's)."""
    if workers <= 1:
        yield from map(work, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


Bounds = list[tuple[FloatArray, FloatArray]]
Sink = Callable[[IntArray, FloatArray, IntArray], None]


def group_intervals(
    base_rows: FloatArray,
    cand_rows: FloatArray,
    *,
    offsets: IntArray,
    alphas: tuple[float, ...],
    st: Settings,
    sink: Sink,
) -> Bounds:
    """Phase 2 for a group: percentile bounds at each alpha; replicates go to ``sink``."""
    bsorted, csorted = np.sort(base_rows, axis=1), np.sort(cand_rows, axis=1)
    m = base_rows.shape[0]
    step = max(1, CHUNK_REPLICATES // max(st.resamples, 1))
    out: Bounds = [(np.empty(m), np.empty(m)) for _ in alphas]

    def chunk(part: slice) -> tuple[slice, FloatArray, list[tuple[FloatArray, FloatArray]]]:
        reps = log_ratio_replicates(
            bsorted[part], csorted[part], resamples=st.resamples, seed=st.seed
        )
        return part, reps, percentile_bounds_multi(reps, alphas)

    parts = [slice(start, min(m, start + step)) for start in range(0, m, step)]
    for part, reps, found in in_order(chunk, parts):
        sink(np.arange(part.start, part.stop), reps, offsets[part])
        for (lo, hi), (plo, phi) in zip(out, found, strict=True):
            lo[part], hi[part] = plo, phi
    return out
