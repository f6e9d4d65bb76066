"""The run as a unit of variance: a hierarchical bootstrap and the run-to-run spread.

A side of a comparison is one or more *runs*; a run is several *processes* (one
per repetition with ``fresh_process``); a process gives one or more
*iterations* (samples). Speed drifts between runs (a VM's host, frequency, the
memory layout a boot got) by more than the samples of one run show, so two
runs are not one population. Following Kalibera and Jones ("Rigorous
benchmarking in reasonable time", 2013), each bootstrap replicate of a side

1. resamples its runs (with replacement), then within each chosen run
2. resamples its processes, then within each chosen process
3. resamples its iterations; a process's value is the median of its iterations,

and the side's statistic is the median of the pooled process values (its log
is used). Runs and processes are drawn jointly for every benchmark of a
comparison (one process produced all of them), so a geometric mean over
benchmarks resamples whole processes and runs, not independent numbers.

Few runs cannot show their own spread: a side with fewer than
``MIN_RESAMPLED_RUNS`` runs gets a run effect ``z * spread / sqrt(runs)`` added
to each replicate (z standard normal, shared by every benchmark of the
replicate), where ``spread`` is the run-to-run standard deviation of the log
median learned from the job's history on that runner (:func:`run_spread`), or
``DEFAULT_RUN_SPREAD`` when there is none (a single-run baseline and no
history: the decision is widened, and the row says so).

Pure functions, seeded: the same input gives the same replicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from perflab.stats._common import FloatArray

MIN_RESAMPLED_RUNS = 5
MIN_HISTORY_RUNS = 3
DEFAULT_RUN_SPREAD = 0.10
SPREAD_CONFIDENCE = 0.90  # the learned spread is its upper 90% confidence bound


@dataclass(frozen=True)
class Tree:
    """One side of one benchmark x metric: runs -> processes -> iteration values."""

    nested: tuple[tuple[FloatArray, ...], ...] | None
    #: one run whose processes each gave one value: those values (the fast path, see
    #: :func:`flat_replicates`); None otherwise
    flat: FloatArray | None = None

    @cached_property
    def runs(self) -> tuple[tuple[FloatArray, ...], ...]:
        if self.nested is not None:
            return self.nested
        assert self.flat is not None
        return (tuple(self.flat[i : i + 1] for i in range(self.flat.size)),)

    @property
    def run_count(self) -> int:
        return 1 if self.flat is not None else len(self.runs)

    def point(self) -> float:
        """log of the median of the processes' medians, pooled over runs."""
        if self.flat is not None:
            return math.log(float(np.median(self.flat)))
        values = [float(np.median(p)) for run in self.runs for p in run]
        return math.log(float(np.median(values)))


class Labels(list[tuple[int, int]]):
    """(run, process) labels of a side's samples that know whether they are flat (one
    run, every sample a process of its own): the common case, told once when the labels
    are made instead of by every comparison of them."""

    __slots__ = ("flat",)

    def __init__(self, labels: Iterable[tuple[int, int]], *, flat: bool) -> None:
        super().__init__(labels)
        self.flat = flat


def tree(values: Sequence[float] | FloatArray, groups: Sequence[tuple[int, int]]) -> Tree:
    """Group samples by their (run, process) labels, in first-seen order."""
    if isinstance(groups, Labels):
        flat = groups.flat
    else:
        flat = len(set(groups)) == len(groups) and len({run for run, _ in groups}) == 1
    if flat:
        return Tree(None, np.asarray(values, dtype=np.float64))
    runs: dict[int, dict[int, list[float]]] = {}
    for value, (run, process) in zip(values, groups, strict=True):
        runs.setdefault(run, {}).setdefault(process, []).append(float(value))
    return Tree(
        tuple(
            tuple(np.asarray(p, dtype=np.float64) for p in procs.values())
            for procs in runs.values()
        )
    )


def flat_replicates(
    base_sorted: FloatArray,
    cand_sorted: FloatArray,
    spreads: FloatArray,
    *,
    half: int,
    seed: int,
) -> FloatArray:
    """(m, 2 half) replicates of log(cand / base) for m rows whose sides are flat (one run,
    one value a process), each side of one size.

    With one run nothing resamples runs, and a process is its one value, so a side's
    replicate is the median of a plain bootstrap resample of its process values: the
    rank tables of :func:`perflab.stats.bootstrap.median_table` give it for every
    row by one gather, with the same law as the general path's process draws
    (mirrored halves as there). The rank tables are shared by the rows (not rotated),
    so in a geometric mean the rows' process draws move together: as if the process
    that was slow in one benchmark were slow in all, an upper bound on the process
    part of the summary's spread. Each side's run effect ``z * spread`` is added as in
    the general path (z shared by every row of a replicate).
    """
    from perflab.stats.bootstrap import log_ratio_from_tables

    out = log_ratio_from_tables(base_sorted, cand_sorted, half, seed)
    z = [np.random.default_rng([seed, stream, 404]).standard_normal(half) for stream in (0, 1)]
    drift = np.concatenate([z[1] - z[0], z[0] - z[1]])  # cand's minus base's, mirrored
    out += spreads[:, None] * drift[None, :]
    return np.asarray(out, dtype=np.float64)


def side_replicates(side: Tree, *, half: int, seed: int, first: int, spread: float) -> FloatArray:
    """2 half replicates of the side's log statistic; mirrored streams (see bootstrap.py):
    the first half draws from stream ``first``, the second from ``1 - first``."""
    return np.concatenate(
        [
            _replicates(side, half, seed, first, spread),
            _replicates(side, half, seed, 1 - first, spread),
        ]
    )


def _replicates(side: Tree, count: int, seed: int, stream: int, spread: float) -> FloatArray:
    runs = [_run_values(procs, count, seed, stream, r) for r, procs in enumerate(side.runs)]
    width = max(v.shape[1] for v in runs)
    padded = np.full((len(runs), count, width), np.nan)
    for r, values in enumerate(runs):
        padded[r, :, : values.shape[1]] = values
    count_runs = len(runs)
    if count_runs >= MIN_RESAMPLED_RUNS:
        rng = np.random.default_rng([seed, stream, 101, count_runs])
        chosen = rng.integers(0, count_runs, size=(count, count_runs))
    else:
        chosen = np.tile(np.arange(count_runs), (count, 1))
    pooled = padded[chosen, np.arange(count)[:, None], :].reshape(count, -1)
    even = all(v.shape[1] == width for v in runs)  # no padding: the fast median
    out = np.log(np.median(pooled, axis=1) if even else np.nanmedian(pooled, axis=1))
    if count_runs < MIN_RESAMPLED_RUNS and spread > 0:
        z = np.random.default_rng([seed, stream, 404]).standard_normal(count)
        out = out + z * spread / math.sqrt(count_runs)
    return np.asarray(out, dtype=np.float64)


def _run_values(
    procs: tuple[FloatArray, ...], count: int, seed: int, stream: int, run: int
) -> FloatArray:
    """(count, processes): each replicate's resampled process values of one run."""
    per_process = np.empty((len(procs), count))
    for p, values in enumerate(procs):
        if values.size == 1:
            per_process[p] = values[0]
            continue
        rng = np.random.default_rng([seed, stream, 303, run, p, values.size])
        idx = rng.integers(0, values.size, size=(count, values.size))
        per_process[p] = np.median(values[idx], axis=1)
    rng = np.random.default_rng([seed, stream, 202, run, len(procs)])
    chosen = rng.integers(0, len(procs), size=(count, len(procs)))
    return np.asarray(per_process[chosen, np.arange(count)[:, None]], dtype=np.float64)


def run_spread(runs: Sequence[Sequence[float]]) -> float | None:
    """The run-to-run standard deviation of a run's log median, at its upper
    ``SPREAD_CONFIDENCE`` confidence bound; None from fewer than ``MIN_HISTORY_RUNS``
    usable runs.

    The spread is the standard deviation of the runs' log medians, scaled up to its
    chi-square upper bound with k - 1 degrees of freedom (k runs): a spread seen in
    few runs is not known well, and a host's next run may drift more than the quiet
    stretch before it showed (x1.28 for 20 runs, x1.94 for 5, x3.1 for 3). It is
    not reduced by what each run's own sampling would explain: with ten processes
    of a heavy-tailed benchmark the bootstrap of one run understates how far its
    median wanders (measured: Go benchmarks at 20-50% CV gave "no spread beyond
    sampling" while A/A pairs differed by 40%), so counting it twice errs on the
    side of "unknown".
    """
    medians = log_medians(runs)
    medians = medians[~np.isnan(medians)]
    if medians.size < MIN_HISTORY_RUNS:
        return None
    return float(spreads_of_medians(medians[np.newaxis, :])[0])


def log_median(samples: Sequence[float] | FloatArray) -> float | None:
    """The log of a run's median over its positive, finite samples (None without any)."""
    values = sorted(v for v in samples if v > 0 and math.isfinite(v))
    if not values:
        return None
    half = len(values) // 2  # the median of the logs: logs keep the order
    if len(values) % 2:
        return math.log(values[half])
    return (math.log(values[half - 1]) + math.log(values[half])) / 2


def log_medians(runs: Sequence[Sequence[float] | FloatArray]) -> FloatArray:
    """:func:`log_median` of each run at once (NaN for a run without a usable sample)."""
    out = np.full(len(runs), np.nan)
    by_length: dict[int, list[int]] = {}
    for i, samples in enumerate(runs):
        by_length.setdefault(len(samples), []).append(i)
    for length, rows in by_length.items():
        if length:
            out[rows] = log_medians_table(np.asarray([runs[i] for i in rows], dtype=float))
    return out


def log_medians_table(table: FloatArray) -> FloatArray:
    """:func:`log_median` of each row of a (runs, samples) table: the rows whose samples
    are all positive and finite (the usual case) as one numpy median."""
    out = np.full(len(table), np.nan)
    with np.errstate(invalid="ignore"):  # NaN compares False: that row is filtered below
        usable = np.all((table > 0) & np.isfinite(table), axis=1)
    if usable.all():
        return np.median(np.log(table), axis=1) if table.shape[1] else out
    if usable.any():
        out[usable] = np.median(np.log(table[usable]), axis=1)
    for i in np.flatnonzero(~usable).tolist():
        found = log_median(table[i])
        out[i] = np.nan if found is None else found
    return out


def spreads_of_medians(medians: FloatArray) -> FloatArray:
    """:func:`run_spread` of each row of a (rows, runs) table of the runs' log medians
    (NaN for fewer than ``MIN_HISTORY_RUNS`` runs)."""
    rows, runs = medians.shape
    if runs < MIN_HISTORY_RUNS:
        return np.full(rows, np.nan)
    spreads: FloatArray = np.sqrt(np.var(medians, axis=1, ddof=1) * _chi2_upper(runs - 1))
    return spreads


@lru_cache(maxsize=64)
def _chi2_upper(dof: int) -> float:
    """dof / chi2 quantile at 1 - SPREAD_CONFIDENCE: the variance's upper bound factor.
    (``chdtri(dof, p)`` is ``chi2.ppf(1 - p, dof)``; scipy.special is a fifth of the
    import of scipy.stats, which a compare of fresh-process runs does not need.)"""
    from scipy.special import chdtri

    return dof / float(chdtri(dof, SPREAD_CONFIDENCE))


STAT_CELLS_MAX = 20_000_000  # replicates x runs x processes x iterations drawn at once


def stat_replicates(
    side: Tree,
    stat: Callable[[FloatArray], FloatArray],
    *,
    count: int,
    seed: int,
    stream: int,
    spread: float,
) -> FloatArray:
    """``count`` replicates of the log of ``stat`` over a side's pooled samples, drawn as
    :func:`side_replicates` draws: runs (at ``MIN_RESAMPLED_RUNS`` or more), processes
    within each chosen run, iterations within each chosen process; then the run effect
    ``z * spread / sqrt(runs)`` below ``MIN_RESAMPLED_RUNS`` runs. For a gate's p95 or
    mean (its median is the comparison's own interval). ``stat`` maps a
    (replicates, values) array with NaN padding to one value per replicate."""
    runs = side.runs
    count_runs = len(runs)
    sizes = [len(procs) for procs in runs]
    flat = [p for procs in runs for p in procs]
    width = max(p.size for p in flat)
    padded = np.full((len(flat), width), np.nan)
    for i, values in enumerate(flat):
        padded[i, : values.size] = values
    iters = np.array([p.size for p in flat])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    procs = np.array(sizes)
    most = int(procs.max())
    out = np.empty(count)
    step = max(1, STAT_CELLS_MAX // max(1, count_runs * most * width))
    rng = np.random.default_rng([seed, stream, 505, count_runs, len(flat)])
    for start in range(0, count, step):
        n = min(step, count - start)
        if count_runs >= MIN_RESAMPLED_RUNS:
            chosen = rng.integers(0, count_runs, size=(n, count_runs))
        else:
            chosen = np.tile(np.arange(count_runs), (n, 1))
        have = procs[chosen][..., None]  # (n, runs, 1)
        slot = np.arange(most)[None, None, :]
        pick = np.minimum((rng.random((n, count_runs, most)) * have).astype(np.int64), have - 1)
        proc = offsets[chosen][..., None] + pick  # (n, runs, most)
        used = slot < have
        size = iters[proc][..., None]
        it = np.minimum((rng.random((*proc.shape, width)) * size).astype(np.int64), size - 1)
        values = padded[proc[..., None], it]
        values[~(used[..., None] & (np.arange(width) < size))] = np.nan
        out[start : start + n] = stat(values.reshape(n, -1))
    logs = np.log(out)
    if count_runs < MIN_RESAMPLED_RUNS and spread > 0:
        z = np.random.default_rng([seed, stream, 606]).standard_normal(count)
        logs = logs + z * spread / math.sqrt(count_runs)
    return np.asarray(logs, dtype=np.float64)
