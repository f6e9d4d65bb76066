"""Row plumbing for compare_many: checking inputs, paired rows, building Comparisons."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from perflab.stats._common import (
    Direction,
    FloatArray,
    Samples,
    Verdict,
    as_array,
    check_count,
    check_direction,
    check_fraction,
    exp,
    expm1,
    fmt_pct,
    sample_problem,
)
from perflab.stats._engine import RowStats, Settings
from perflab.stats.bootstrap import even_resamples, percentile_bounds_multi, resample_stat
from perflab.stats.comparison import CompareInput, Comparison
from perflab.stats.decisive import blockers, contaminated_flag
from perflab.stats.geomean import GeomeanAccumulator
from perflab.stats.hierarchy import (
    DEFAULT_RUN_SPREAD,
    Tree,
    flat_replicates,
    side_replicates,
    tree,
)
from perflab.stats.power import CODE as POWER_CODE
from perflab.stats.power import min_pvalue, size_limit
from perflab.stats.quality import flag_rows, noisy_host_flag
from perflab.stats.significance import wilcoxon_band_pvalue, wilcoxon_pvalue
from perflab.stats.summary import summarize_rows
from perflab.stats.verdict import Evidence, decide

_TEST_NAMES = {"mann-whitney-u": "Mann-Whitney U", "wilcoxon-signed-rank": "Wilcoxon signed-rank"}


@dataclass(frozen=True)
class Prepared:
    index: int
    item: CompareInput
    base: FloatArray
    cand: FloatArray
    paired: bool
    trees: tuple[Tree, Tree] | None = None  # hierarchical rows: (baseline, candidate)


def settings(
    *,
    noise_band: float,
    confidence: float,
    fdr: float | None,
    seed: int,
    resamples: int,
    cv_limit: float,
    expected_tail: float | None,
    trend_min: float,
) -> Settings:
    """Validated settings (StatsInputError names the bad one)."""
    check_fraction("noise_band", noise_band)
    check_fraction("confidence", confidence, open_low=True)
    if fdr is not None:
        check_fraction("fdr", fdr, open_low=True)
    check_fraction("cv_limit", cv_limit, high=math.inf, open_low=True)
    check_fraction("trend_min", trend_min, high=math.inf)
    if expected_tail is not None:
        check_fraction("expected_tail", expected_tail, low=1.0, high=math.inf)
    check_count("seed", seed)
    check_count("resamples", resamples)
    return Settings(
        noise_band,
        confidence,
        fdr,
        seed,
        even_resamples(resamples),
        cv_limit,
        expected_tail,
        trend_min,
    )


def prepare(
    items: Sequence[CompareInput], st: Settings
) -> tuple[dict[int, Prepared], dict[int, Comparison]]:
    """Split rows into usable ones and ``not_comparable`` results with their reasons.

    The common case (finite, non-negative, non-zero median) is checked for all
    rows of one shape at once; only failing rows get the detailed diagnosis.
    """
    arrays: dict[int, tuple[FloatArray, FloatArray]] = {}
    bad: dict[int, Comparison] = {}
    for i, item in enumerate(items):
        base = None if item.base is None else as_array(item.base)
        cand = None if item.cand is None else as_array(item.cand)
        if (
            check_direction(item.direction) is None
            and base is not None
            and cand is not None
            and base.size
            and cand.size
            and (not item.paired or base.size == cand.size)
        ):
            arrays[i] = (base, cand)
        else:
            bad[i] = _rejected(item, st)
    by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (base, cand) in arrays.items():
        by_shape[(base.size, cand.size)].append(i)
    good: dict[int, Prepared] = {}
    for idx in by_shape.values():
        ok = _usable(np.stack([arrays[i][0] for i in idx])) & _usable(
            np.stack([arrays[i][1] for i in idx])
        )
        for i, fine in zip(idx, ok, strict=True):
            if fine and (not items[i].paired or _positive(*arrays[i])):
                good[i] = Prepared(
                    i, items[i], *arrays[i], items[i].paired, _trees(items[i], *arrays[i])
                )
            else:
                bad[i] = _rejected(items[i], st)
    return good, bad


def _trees(item: CompareInput, base: FloatArray, cand: FloatArray) -> tuple[Tree, Tree] | None:
    """Both sides grouped by run and process, when the caller said where samples came from.

    A flat side (one run of single-value processes) may hold zeros beside a positive
    median (``user_time`` of a short program): its replicate medians may be zero, which
    makes those replicates' ratios infinite, an interval the data cannot bound, not a
    reason to drop the run-to-run allowance (that made A/A runs of `true` regressed on
    user_time). Deeper trees need every value positive (a process's median has a log).
    """
    bg, cg = item.base_groups, item.cand_groups
    if item.paired or bg is None or cg is None or len(bg) != base.size or len(cg) != cand.size:
        return None
    trees = tree(base, bg), tree(cand, cg)
    if all(t.flat is not None for t in trees) or _positive(base, cand):
        return trees
    return None


def _positive(base: FloatArray, cand: FloatArray) -> bool:
    return bool(np.all(base > 0) and np.all(cand > 0))


def _usable(rows: FloatArray) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        fine = np.all(np.isfinite(rows) & (rows >= 0), axis=1)
        return np.asarray(fine & (np.median(rows, axis=1) > 0), dtype=np.bool_)


def _rejected(item: CompareInput, st: Settings) -> Comparison:
    return Comparison(
        benchmark=item.benchmark,
        metric=item.metric,
        unit=item.unit,
        direction=item.direction,
        verdict="not_comparable",
        reason=_problem(item) or "samples cannot be compared",
        test="wilcoxon-signed-rank" if item.paired else "mann-whitney-u",
        noise_band=st.noise_band,
        confidence=st.confidence,
        paired=item.paired,
    )


def _problem(item: CompareInput) -> str | None:
    found = check_direction(item.direction)
    for side, values in (("baseline", item.base), ("candidate", item.cand)):
        found = found or _side_problem(side, values, item.unit)
    if found is None and item.paired:
        found = _pair_problem(item)
    return found


def _pair_problem(item: CompareInput) -> str | None:
    """Called once both sides passed the per-side checks (so both are arrays)."""
    base = as_array(item.base) if item.base is not None else None
    cand = as_array(item.cand) if item.cand is not None else None
    if base is None or cand is None:
        return None
    if base.size != cand.size:
        return (
            f"paired (A/B) comparison needs one baseline sample per candidate sample, "
            f"got {base.size} and {cand.size}"
        )
    zero = np.flatnonzero((base == 0) | (cand == 0))
    if zero.size:
        return (
            f"pair {int(zero[0]) + 1} has a zero sample: a paired ratio needs positive "
            "values on both sides"
        )
    return None


def _side_problem(side: str, values: Samples | None, unit: str | None) -> str | None:
    if values is None:
        return f"{side}: the metric is missing"
    problem = sample_problem(values, unit)
    if problem is None:
        array = as_array(values)
        if array is not None and float(np.median(array)) == 0.0:
            problem = "median is zero, so a ratio of medians is undefined"
    return None if problem is None else f"{side}: {problem}"


def with_host_flags(row: RowStats, prep: Prepared) -> RowStats:
    item = prep.item
    for failure, flags in (
        (item.base_noise_probe_failure, row.base_flags),
        (item.cand_noise_probe_failure, row.cand_flags),
    ):
        if failure:
            flags.insert(0, noisy_host_flag(failure))
    for detail, flags in (
        (item.base_contamination, row.base_flags),
        (item.cand_contamination, row.cand_flags),
    ):
        if detail:
            flags.insert(0, contaminated_flag(detail))
    return row


def paired_stats(prep: Prepared, st: Settings) -> RowStats:
    """Phase 1 for an A/B row: paired log-ratios, Wilcoxon signed-rank."""
    a, b = prep.base, prep.cand
    diffs = np.log(b) - np.log(a)
    n = a.size
    alpha = st.fdr if st.fdr is not None else 1.0 - st.confidence
    flags = [
        flag_rows(
            side[None, :],
            cv_limit=st.cv_limit,
            expected_tail=st.expected_tail,
            alpha=alpha,
            other_n=n,
            trend_min=st.trend_min,
        )[0]
        for side in (a, b)
    ]
    floor = min_pvalue(True, n, n)
    return RowStats(
        summarize_rows(np.sort(a)[None, :], st.confidence)[0],
        summarize_rows(np.sort(b)[None, :], st.confidence)[0],
        flags[0],
        flags[1],
        wilcoxon_pvalue(diffs),
        wilcoxon_band_pvalue(diffs, st.noise_band),
        floor,
        float(np.median(diffs)),
        "wilcoxon-signed-rank",
    )


def paired_bounds(
    prep: Prepared,
    st: Settings,
    *,
    alphas: tuple[float, ...],
    keys: list[tuple[str, Direction]],
    geo: GeomeanAccumulator,
    row: RowStats,
) -> list[tuple[float, float]]:
    """Phase 2 for an A/B row: bootstrap of the median paired log-ratio.

    Pairs are drawn from a table that depends only on their number, so every benchmark
    of an experiment resamples the same pairs of processes: the geometric mean over
    benchmarks (added without rotation) resamples whole process pairs.
    """
    diffs = np.log(prep.cand) - np.log(prep.base)
    reps = resample_stat(
        diffs, lambda x: np.median(x, axis=1), resamples=st.resamples, seed=st.seed, stream=2
    )
    reps = reps[None, :]
    geo.add(
        keys, np.array([prep.index]), np.array([row.log_ratio]), reps, np.array([0]), resampled=True
    )
    return [(float(lo[0]), float(hi[0])) for lo, hi in percentile_bounds_multi(reps, alphas)]


def hierarchical_bounds(
    prep: Prepared,
    st: Settings,
    *,
    alphas: tuple[float, ...],
    keys: list[tuple[str, Direction]],
    geo: GeomeanAccumulator,
    row: RowStats,
) -> list[tuple[float, float]]:
    """Phase 2 for a row whose samples are grouped by run and process (see hierarchy)."""
    assert prep.trees is not None
    spread = run_spread_of(prep.item)
    half = st.resamples // 2
    base = side_replicates(prep.trees[0], half=half, seed=st.seed, first=0, spread=spread)
    cand = side_replicates(prep.trees[1], half=half, seed=st.seed, first=1, spread=spread)
    reps = (cand - base)[None, :]
    geo.add(
        keys, np.array([prep.index]), np.array([row.log_ratio]), reps, np.array([0]), resampled=True
    )
    return [(float(lo[0]), float(hi[0])) for lo, hi in percentile_bounds_multi(reps, alphas)]


def is_flat(prep: Prepared) -> bool:
    """Both sides one run of single-value processes (the vectorised path, flat_bounds)."""
    return prep.trees is not None and all(t.flat is not None for t in prep.trees)


def flat_bounds(
    idx: list[int],
    prepared: dict[int, Prepared],
    st: Settings,
    *,
    alphas: tuple[float, ...],
    keys: list[tuple[str, Direction]],
    geo: GeomeanAccumulator,
    stats: dict[int, RowStats],
) -> dict[int, list[tuple[float, float]]]:
    """Phase 2 for flat hierarchical rows of one shape, all at once (see flat_replicates);
    row chunks keep memory bounded like the plain path's."""
    from perflab.stats._engine import CHUNK_REPLICATES, in_order

    half = st.resamples // 2
    base = np.sort(np.stack([prepared[i].base for i in idx]), axis=1)
    cand = np.sort(np.stack([prepared[i].cand for i in idx]), axis=1)
    spreads = np.array([run_spread_of(prepared[i].item) for i in idx])
    points = np.array([stats[i].log_ratio for i in idx])
    step = max(1, CHUNK_REPLICATES // max(st.resamples, 1))

    def chunk(part: slice) -> tuple[slice, FloatArray, list[tuple[FloatArray, FloatArray]]]:
        reps = flat_replicates(base[part], cand[part], spreads[part], half=half, seed=st.seed)
        return part, reps, percentile_bounds_multi(reps, alphas)

    out: dict[int, list[tuple[float, float]]] = {}
    parts = [slice(start, min(len(idx), start + step)) for start in range(0, len(idx), step)]
    for part, reps, found in in_order(chunk, parts):
        rows = np.array(idx[part])
        geo.add(keys, rows, points[part], reps, np.zeros(rows.size, dtype=np.int64), resampled=True)
        bounds = [(lo.tolist(), hi.tolist()) for lo, hi in found]
        for j, i in enumerate(idx[part]):
            out[i] = [(lo[j], hi[j]) for lo, hi in bounds]
    return out


def run_spread_of(item: CompareInput) -> float:
    """The run-to-run spread a hierarchical row allows for (the default when unknown)."""
    return DEFAULT_RUN_SPREAD if item.run_spread is None else item.run_spread


def _around(point: float, bounds: tuple[float, float]) -> tuple[float, float]:
    """A percentile interval widened, if need be, to contain its own point estimate."""
    return min(bounds[0], point), max(bounds[1], point)


def build(
    item: CompareInput,
    row: RowStats,
    *,
    q: float,
    bounds: list[tuple[float, float]],
    level: float,
    cut: float,
    st: Settings,
    prep: Prepared,
    tested: int = 1,
) -> Comparison:
    """The Comparison for a usable row, with its verdict (flags that decide applied)."""
    found = _decided(item, row, q=q, bounds=bounds, level=level, cut=cut, st=st, prep=prep)
    stops = blockers(prep.base, prep.cand, row.base_flags, row.cand_flags)
    if found.verdict == "unknown":
        limit = size_limit(
            paired=item.paired,
            n_base=row.base.n,
            n_cand=row.cand.n,
            band_pvalue=row.band_pvalue,
            floor=row.min_pvalue,
            q=q,
            cut=cut,
            tested=tested,
            decision_ci=_around(row.log_ratio, bounds[1]),
            noise_band=st.noise_band,
            test_name=_TEST_NAMES[row.test],
            sym="q" if st.fdr is not None else "p",
        )
        if limit is not None:
            stops.append((POWER_CODE, limit))
    if not stops:
        return found
    text = "; ".join(why for _, why in stops)
    ci = found.ratio_ci or (math.nan, math.nan)
    raw = (
        f"raw ratio {fmt_pct(found.change or 0.0)} "
        f"({st.confidence:.0%} CI {fmt_pct(ci[0] - 1)} .. {fmt_pct(ci[1] - 1)})"
    )
    return replace(
        found,
        verdict="unknown",
        unmeasured=tuple(dict.fromkeys(c for c, _ in stops)),
        reason=f"could not measure: {text}; {raw}, not a verdict",
    )


def _decided(
    item: CompareInput,
    row: RowStats,
    *,
    q: float,
    bounds: list[tuple[float, float]],
    level: float,
    cut: float,
    st: Settings,
    prep: Prepared,
) -> Comparison:
    ci, dci = (_around(row.log_ratio, b) for b in bounds[:2])
    name = _TEST_NAMES[row.test]
    sym = "q" if st.fdr is not None else "p"
    verdict: Verdict
    if row.min_pvalue > cut:
        verdict, reason = (
            "unknown",
            (
                f"only {row.base.n} and {row.cand.n} samples: {name} cannot reach {sym} <= {cut:g} "
                "at this size, so no change can be confirmed; add repetitions"
            ),
        )
    else:
        test_text = f"the {name} band test ({sym} = {q:.2g} {'<=' if q <= cut else '>'} {cut:g})"
        ev = Evidence(
            direction=cast(Direction, item.direction),
            log_ratio=row.log_ratio,
            ci=ci,
            decision_ci=dci,
            confidence=st.confidence,
            decision_level=level,
            noise_band=st.noise_band,
            significant=q <= cut,
            test_text=test_text,
            what=f"{item.metric or 'value'}: "
            + ("median pair ratio" if item.paired else "ratio of medians"),
        )
        verdict, reason = decide(ev)
    return Comparison(
        benchmark=item.benchmark,
        metric=item.metric,
        unit=item.unit,
        direction=item.direction,
        verdict=verdict,
        reason=reason,
        base=row.base,
        cand=row.cand,
        ratio=exp(row.log_ratio),
        ratio_ci=(exp(ci[0]), exp(ci[1])),
        change=expm1(row.log_ratio),
        pvalue=row.pvalue,
        band_pvalue=row.band_pvalue,
        qvalue=q if st.fdr is not None else None,
        test=row.test,
        decision_ci=(exp(dci[0]), exp(dci[1])),
        decision_level=level,
        noise_band=st.noise_band,
        confidence=st.confidence,
        paired=item.paired,
        base_flags=tuple(row.base_flags),
        cand_flags=tuple(row.cand_flags),
        **_run_fields(item, prep),
    )


def _run_fields(item: CompareInput, prep: Prepared) -> dict[str, Any]:
    if prep.trees is None:
        return {}
    source = item.run_spread_source or (
        "the run-to-run spread is unknown (a single-run baseline and no history of this job "
        f"on this runner): assumed {DEFAULT_RUN_SPREAD:.0%}, which widens the decision"
        if item.run_spread is None
        else ""
    )
    return {
        "runs": (prep.trees[0].run_count, prep.trees[1].run_count),
        "run_spread": run_spread_of(item),
        "run_spread_source": source,
    }
