"""Comparing a candidate with a baseline, one metric or thousands at once.

Per benchmark and metric: both sides' summaries, the ratio of medians
(candidate / baseline) with a seeded bootstrap CI, Mann-Whitney U as a second
opinion, quality flags, and a verdict (see :mod:`perflab.stats.verdict`).

Across many rows (:func:`compare_many`): Benjamini-Hochberg q-values over all
comparable benchmark x metric rows, and for the rows the BH step selects, a
decision CI at the false-coverage-adjusted level ``1 - R (1 - confidence) / m``
(Benjamini & Yekutieli 2005; R selected of m). A row is regressed or improved
only if it is a BH discovery (q <= fdr) *and* its adjusted CI lies beyond the
noise band, so the share of wrong regressed/improved claims is bounded by the
false coverage rate. Bad rows never raise: they come back ``not_comparable``
with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from perflab.stats import _engine, _rows
from perflab.stats._common import Direction, FloatArray, Samples
from perflab.stats.bootstrap import DEFAULT_RESAMPLES
from perflab.stats.comparison import CompareInput, Comparison
from perflab.stats.geomean import GeomeanAccumulator, GeomeanRow
from perflab.stats.quality import DEFAULT_CV_LIMIT
from perflab.stats.significance import bh_qvalues

__all__ = ["CompareInput", "CompareReport", "Comparison", "compare_many", "compare_samples"]


@dataclass(frozen=True)
class CompareReport:
    """All rows, the per-metric geometric-mean summary, and the multiplicity bookkeeping."""

    rows: tuple[Comparison, ...]
    summary: tuple[GeomeanRow, ...]
    fdr: float | None
    tested: int
    discoveries: int
    decision_level: float

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("regressed", "improved", "same", "unknown", "not_comparable"), 0)
        for row in self.rows:
            out[row.verdict] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "summary": [s.to_dict() for s in self.summary],
            "counts": self.counts(),
            "fdr": self.fdr,
            "tested": self.tested,
            "discoveries": self.discoveries,
            "decision_level": self.decision_level,
        }


def compare_samples(
    base: Samples,
    cand: Samples,
    *,
    direction: str = "lower",
    noise_band: float = 0.01,
    confidence: float = 0.95,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    unit: str | None = None,
    cv_limit: float = DEFAULT_CV_LIMIT,
    expected_tail: float | None = None,
    benchmark: str = "",
    metric: str = "",
) -> Comparison:
    """Compare one metric's samples; never raises on bad samples (``not_comparable``)."""
    item = CompareInput(
        base=base, cand=cand, direction=direction, benchmark=benchmark, metric=metric, unit=unit
    )
    return compare_many(
        [item],
        noise_band=noise_band,
        confidence=confidence,
        fdr=None,
        seed=seed,
        resamples=resamples,
        cv_limit=cv_limit,
        expected_tail=expected_tail,
    ).rows[0]


def compare_many(
    items: Sequence[CompareInput],
    *,
    noise_band: float = 0.01,
    confidence: float = 0.95,
    fdr: float | None = 0.05,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    cv_limit: float = DEFAULT_CV_LIMIT,
    expected_tail: float | None = None,
    trend_min: float = 0.005,
) -> CompareReport:
    """Compare many rows at once (vectorised); ``fdr=None`` tests each row at 1 - confidence.

    Exact (deterministic) rows are compared by :func:`perflab.stats.exact.compare_exact`
    and take no part in the false-discovery control or the geometric means.
    """
    st = _rows.settings(
        noise_band=noise_band,
        confidence=confidence,
        fdr=fdr,
        seed=seed,
        resamples=resamples,
        cv_limit=cv_limit,
        expected_tail=expected_tail,
        trend_min=trend_min,
    )
    from perflab.stats.exact import compare_exact

    noisy = [i for i, it in enumerate(items) if not it.exact]
    # samples near the float limit (1e308) overflow sums and medians: those statistics are
    # then infinite, reported as unbounded (None in JSON), without a numpy warning on stderr
    with np.errstate(over="ignore"):
        report = _compare_noisy([items[i] for i in noisy], st)
    rows: list[Comparison | None] = [None] * len(items)
    for i, row in zip(noisy, report.rows, strict=True):
        rows[i] = row
    for i, item in enumerate(items):
        if item.exact:
            rows[i] = compare_exact(item, confidence=confidence, noise_band=noise_band)
    return replace(report, rows=tuple(r for r in rows if r is not None))


def _compare_noisy(items: Sequence[CompareInput], st: _engine.Settings) -> CompareReport:
    fdr, confidence = st.fdr, st.confidence
    prepared, rejected = _rows.prepare(items, st)
    stats = _phase_one(prepared, st)
    valid = sorted(stats)
    pvals = np.array([stats[i].band_pvalue for i in valid])
    qvals = bh_qvalues(pvals) if fdr is not None else pvals
    q_of = {i: float(q) for i, q in zip(valid, qvals, strict=True)}
    cut = fdr if fdr is not None else 1.0 - confidence
    chosen = int(np.sum(qvals <= cut))
    level = 1.0 - (1.0 - confidence) * max(chosen, 1) / max(len(valid), 1) if fdr else confidence
    geo = GeomeanAccumulator()
    keys = [(it.metric, cast(Direction, it.direction)) for it in items]
    bounds = _phase_two(
        prepared, st, alphas=(1.0 - confidence, 1.0 - level), keys=keys, geo=geo, stats=stats
    )
    rows = [
        rejected[i]
        if i in rejected
        else _rows.build(
            items[i],
            stats[i],
            q=q_of[i],
            bounds=bounds[i],
            level=level,
            cut=cut,
            st=st,
            prep=prepared[i],
            tested=len(valid) if fdr is not None else 1,
        )
        for i in range(len(items))
    ]
    for i in rejected:
        if rejected[i].direction in ("lower", "higher"):
            geo.exclude(keys[i])
    for i, row in enumerate(rows):
        if row.unmeasured:
            geo.unmeasured(keys[i])
    summary = [_confirmed(g, rows, keys) for g in geo.rows(st.noise_band, confidence)]
    return CompareReport(
        rows=tuple(rows),
        summary=tuple(summary),
        fdr=fdr,
        tested=len(valid),
        discoveries=chosen,
        decision_level=level,
    )


def _confirmed(
    geo: GeomeanRow, rows: list[Comparison], keys: list[tuple[str, Direction]]
) -> GeomeanRow:
    """A summary has no test of its own: it claims regressed or improved only when some
    benchmark of its metric is confirmed to have moved that way by its own test."""
    if geo.verdict not in ("regressed", "improved"):
        return geo
    key = (geo.metric, geo.direction)
    if any(k == key and r.verdict == geo.verdict for k, r in zip(keys, rows, strict=True)):
        return geo
    return replace(
        geo,
        verdict="unknown",
        reason=(
            f"no verdict: {geo.reason.split(':')[0]} lies beyond the band, but no benchmark's "
            f"own test confirms a change that way (every row is unknown or same)"
        ),
    )


def _phase_one(
    prepared: dict[int, _rows.Prepared], st: _engine.Settings
) -> dict[int, _engine.RowStats]:
    out: dict[int, _engine.RowStats] = {}
    for idx, (base, cand) in _groups(prepared).items():
        for i, row in zip(idx, _engine.group_stats(base, cand, st), strict=True):
            out[i] = _rows.with_host_flags(row, prepared[i])
    for i, prep in prepared.items():
        if prep.paired:
            out[i] = _rows.with_host_flags(_rows.paired_stats(prep, st), prep)
        elif prep.trees is not None and not _rows.is_flat(prep):
            # flat trees: the pooled median is the sample median group_stats used
            out[i].log_ratio = prep.trees[1].point() - prep.trees[0].point()
    return out


def _groups(
    prepared: dict[int, _rows.Prepared], *, trees: bool = True
) -> dict[tuple[int, ...], tuple[FloatArray, FloatArray]]:
    by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, prep in prepared.items():
        if not prep.paired and (trees or prep.trees is None):
            by_shape[(prep.base.size, prep.cand.size)].append(i)
    return {
        tuple(idx): (
            np.stack([prepared[i].base for i in idx]),
            np.stack([prepared[i].cand for i in idx]),
        )
        for idx in by_shape.values()
    }


def _phase_two(
    prepared: dict[int, _rows.Prepared],
    st: _engine.Settings,
    *,
    alphas: tuple[float, float],
    keys: list[tuple[str, Direction]],
    geo: GeomeanAccumulator,
    stats: dict[int, _engine.RowStats],
) -> dict[int, list[tuple[float, float]]]:
    total = len(keys)
    offsets = np.random.default_rng([st.seed, 7]).integers(0, st.resamples, size=max(total, 1))
    out: dict[int, list[tuple[float, float]]] = {}
    for idx, (base, cand) in _groups(prepared, trees=False).items():
        rows = np.array(idx)
        points = np.array([stats[i].log_ratio for i in idx])

        def sink(
            local: np.ndarray[Any, Any],
            reps: FloatArray,
            shifts: np.ndarray[Any, Any],
            rows: Any = rows,
            points: FloatArray = points,
        ) -> None:
            geo.add(keys, rows[local], points[local], reps, shifts)

        bounds = _engine.group_intervals(
            base, cand, offsets=offsets[rows], alphas=alphas, st=st, sink=sink
        )
        columns = [list(zip(lo.tolist(), hi.tolist(), strict=True)) for lo, hi in bounds]
        for j, i in enumerate(idx):
            out[i] = [col[j] for col in columns]
    flat: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, prep in prepared.items():
        if _rows.is_flat(prep):
            flat[(prep.base.size, prep.cand.size)].append(i)
    for same in flat.values():
        out.update(
            _rows.flat_bounds(same, prepared, st, alphas=alphas, keys=keys, geo=geo, stats=stats)
        )
    for i, prep in prepared.items():
        if prep.paired:
            out[i] = _rows.paired_bounds(prep, st, alphas=alphas, keys=keys, geo=geo, row=stats[i])
        elif prep.trees is not None and i not in out:
            out[i] = _rows.hierarchical_bounds(
                prep, st, alphas=alphas, keys=keys, geo=geo, row=stats[i]
            )
    return out
