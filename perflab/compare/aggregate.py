"""Aggregation across platforms (pure): one table of benchmark x platform.

Input: a list of :class:`PlatformRun` (a run with its platform, the baseline it is
compared against on that platform if there is one, and its runner's calibration
figure). A sweep run is such a list; so are run ids given to ``perflab report``.

Per benchmark, metric and platform: the median with its distribution-free CI,
the change against that platform's baseline with the bootstrap CI and the
verdict (the same statistics as ``perflab compare``). Per benchmark and metric,
a consistency label (regressed everywhere, or on one platform only:
"platform-specific") and cross-platform ratios against a reference platform,
raw and normalised by the runners' calibration probes. Per platform, geometric
means of the changes and of the ratios.

Normalisation: the calibration figure is the time per iteration of the fixed
work loop of ``perflab verify``'s noise probe (ns; larger on a slower clock).
A lower-is-better ratio P/ref is divided by cal(P)/cal(ref); a higher-is-better
ratio is multiplied by it. "1.3x slower" after normalisation means the code,
not the clock; the raw ratio stays beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError

if TYPE_CHECKING:
    from perflab.compare.sides import Side


@dataclass
class PlatformRun:
    """One platform's part of an aggregation."""

    platform: str
    run: Side
    baseline: Side | None = None
    calibration: float | None = None  # ns per iteration of verify's probe loop
    history: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: per (benchmark, metric): the run-to-run spread learned from the job's history on
    #: this runner, as ``perflab compare`` learns it (none: assumed, which widens)
    spreads: dict[tuple[str, str], tuple[float, str]] | None = None


@dataclass
class Cell:
    n: int
    median: float
    ci: tuple[float, float]
    samples: list[float]
    change: float | None = None
    change_ci: tuple[float, float] | None = None
    verdict: str = "no baseline"
    baseline_median: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "median": self.median,
            "ci": list(self.ci),
            "change": self.change,
            "change_ci": list(self.change_ci) if self.change_ci else None,
            "verdict": self.verdict,
            "baseline_median": self.baseline_median,
        }


@dataclass
class Row:
    benchmark: str
    metric: str
    unit: str
    direction: str
    cells: dict[str, Cell]
    consistency: str = ""
    ratios: dict[str, dict[str, float | None]] = field(default_factory=dict)

    @property
    def verdicts(self) -> list[str]:
        return [c.verdict for c in self.cells.values()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "unit": self.unit,
            "direction": self.direction,
            "consistency": self.consistency,
            "cells": {p: c.to_dict() for p, c in self.cells.items()},
            "ratios": self.ratios,
        }


@dataclass
class Aggregate:
    platforms: list[dict[str, Any]]
    reference: str
    rows: list[Row]
    geomean: dict[str, dict[str, dict[str, Any]]]  # platform -> metric -> figures
    evidence: list[dict[str, Any]]
    settings: dict[str, Any]
    #: platform -> (benchmark, metric) -> stored series with change points (plotted rows)
    histories: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = field(default_factory=dict)
    #: platform -> its gates' results against its baseline (``_GateRow.to_dict()``)
    gates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: platform -> how its run's evidence class differs from its baseline's (compared anyway,
    #: as ``compare --force`` would, and said here)
    differences: dict[str, list[str]] = field(default_factory=dict)
    #: ``report SWEEP_RUN``: the sweep run's record (its parts: ran, failed, skipped, why)
    sweep: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            for verdict in row.verdicts:
                out[verdict] = out.get(verdict, 0) + 1
        return out

    @property
    def regression(self) -> bool:
        return any("regressed" in r.verdicts for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "perflab-aggregate/1",
            "platforms": self.platforms,
            "reference": self.reference,
            "settings": self.settings,
            "counts": self.counts(),
            "regression": self.regression,
            "geomean": self.geomean,
            "rows": [r.to_dict() for r in self.rows],
            "gates": self.gates,
            "baseline_differences": self.differences,
            "evidence": self.evidence,
            "sweep": self.sweep,
        }


def aggregate(
    parts: Sequence[PlatformRun],
    *,
    reference: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Aggregate:
    """The benchmark x platform table of ``parts`` (one per platform)."""
    if not parts:
        raise InputError("nothing to aggregate: no runs")
    names = [p.platform for p in parts]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(
            f"expected one run per platform, found several for {', '.join(dup)}",
            hint="give one run per platform (a platform's runs are its "
            "repetitions: merge them into one run first)",
        )
    ref = reference or names[0]
    if ref not in names:
        raise InputError(
            f"expected one of the platforms {', '.join(names)}, got {ref!r}", field="--reference"
        )
    rows: dict[tuple[str, str], Row] = {}
    geomean: dict[str, dict[str, dict[str, Any]]] = {}
    gates: dict[str, list[dict[str, Any]]] = {}
    differences: dict[str, list[str]] = {}
    for part in parts:
        geomean[part.platform] = _platform_cells(part, rows, overrides or {}, gates, differences)
    table = list(rows.values())
    cal = {p.platform: p.calibration for p in parts}
    for row in table:
        row.consistency = consistency(row.cells)
        row.ratios = ratios(row, ref, cal)
    _ratio_geomeans(table, ref, geomean)
    return Aggregate(
        platforms=[_describe(p) for p in parts],
        reference=ref,
        rows=table,
        geomean=geomean,
        evidence=[evidence(p) for p in parts],
        settings={"reference": ref, **(overrides or {})},
        histories={p.platform: p.history for p in parts if p.history},
        gates=gates,
        differences=differences,
    )


def _describe(part: PlatformRun) -> dict[str, Any]:
    return {
        "platform": part.platform,
        "run_id": part.run.run_id,
        "runner": part.run.runner,
        "job": part.run.job,
        "baseline_run_id": part.baseline.run_id if part.baseline else None,
        "baseline": part.baseline.label if part.baseline else None,
        "calibration_ns": part.calibration,
    }


def _platform_cells(
    part: PlatformRun,
    rows: dict[tuple[str, str], Row],
    overrides: dict[str, Any],
    gates: dict[str, list[dict[str, Any]]],
    differences: dict[str, list[str]],
) -> dict[str, dict[str, Any]]:
    """Fill ``rows`` with this platform's cells; returns its geometric-mean changes."""
    summaries = _summaries(part.run)
    for (bench, metric), (unit, direction, summary, samples) in summaries.items():
        row = rows.setdefault((bench, metric), Row(bench, metric, unit, direction, {}))
        row.cells[part.platform] = Cell(
            n=summary.n, median=summary.median, ci=summary.median_ci, samples=samples
        )
    if part.baseline is None:
        return {}
    from perflab.compare.engine import compare_sides

    outcome = compare_sides(
        part.baseline, part.run, force=True, overrides=overrides, spreads=part.spreads
    )
    gates[part.platform] = [g.to_dict() for g in outcome.gates]
    if outcome.differences:
        differences[part.platform] = list(outcome.differences)
    for i, comp in enumerate(outcome.report.rows):
        found = rows.get((comp.benchmark, comp.metric))
        cell = None if found is None else found.cells.get(part.platform)
        if cell is None:  # in the baseline only: nothing measured here to judge
            continue
        cell.verdict = outcome.row_verdict(i)
        cell.change, cell.change_ci = comp.change, _minus_one(comp.ratio_ci)
        cell.baseline_median = comp.base.median if comp.base is not None else None
    return {
        g.metric: {
            "change": g.change,
            "ci": _minus_one(g.ratio_ci),
            "verdict": g.verdict,
            "count": g.count,
        }
        for g in outcome.report.summary
    }


def _minus_one(pair: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if pair is None else (pair[0] - 1.0, pair[1] - 1.0)


def _summaries(side: Side) -> dict[tuple[str, str], tuple[str, str, Any, list[float]]]:
    """Summary of every metric of a run, vectorised by sample count."""
    import numpy as np

    from perflab.stats.summary import summarize_rows

    by_n: dict[int, list[tuple[tuple[str, str], str, str, list[float]]]] = {}
    for bench in side.result.benchmarks:
        for name, metric in bench.metrics.items():
            values = [v for v in metric.samples if math.isfinite(v)]
            if values:
                by_n.setdefault(len(values), []).append(
                    ((bench.name, name), metric.unit, metric.direction, values)
                )
    out = {}
    for items in by_n.values():
        matrix = np.sort(np.array([values for *_, values in items]), axis=1)
        for (key, unit, direction, values), summary in zip(
            items, summarize_rows(matrix, 0.95), strict=True
        ):
            out[key] = (unit, direction, summary, values)
    return out


def consistency(cells: dict[str, Cell]) -> str:
    """How a change shows across the platforms that have a baseline."""
    judged = {p: c.verdict for p, c in cells.items() if c.verdict != "no baseline"}
    if not judged:
        return "no baseline"
    for verdict in ("regressed", "improved"):
        hit = sorted(p for p, v in judged.items() if v == verdict)
        if not hit:
            continue
        if len(judged) > 1 and len(hit) == len(judged):
            return f"{verdict} on every platform"
        if len(judged) > 1 and len(hit) == 1:
            return f"platform-specific: {verdict} on {hit[0]} only"
        return f"{verdict} on {len(hit)} of {len(judged)} platforms" if len(judged) > 1 else verdict
    return "unchanged" if all(v == "same" for v in judged.values()) else "undecided"


Ratios = dict[str, dict[str, float | None]]


def ratios(row: Row, reference: str, cal: dict[str, float | None]) -> Ratios:
    """Each platform's median over the reference platform's: raw and calibration-normalised."""
    ref = row.cells.get(reference)
    out: dict[str, dict[str, float | None]] = {}
    if ref is None or ref.median == 0:
        return out
    for platform, cell in row.cells.items():
        raw = cell.median / ref.median
        out[platform] = {
            "raw": raw,
            "normalised": normalise(raw, row.direction, cal.get(platform), cal.get(reference)),
        }
    return out


def normalise(raw: float, direction: str, cal: float | None, ref_cal: float | None) -> float | None:
    """``raw`` with the clock difference of the two runners taken out (None: no figure)."""
    if not cal or not ref_cal:
        return None
    speed = cal / ref_cal  # > 1: this runner's probe loop is slower than the reference's
    return raw / speed if direction == "lower" else raw * speed


def _ratio_geomeans(
    rows: list[Row], reference: str, geomean: dict[str, dict[str, dict[str, Any]]]
) -> None:
    logs: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in rows:
        for platform, pair in row.ratios.items():
            entry = logs.setdefault((platform, row.metric), {"raw": [], "normalised": []})
            for kind in ("raw", "normalised"):
                value = pair[kind]
                if value is not None and value > 0:
                    entry[kind].append(math.log(value))
    for (platform, metric), entry in logs.items():
        figures = geomean.setdefault(platform, {}).setdefault(metric, {})
        for kind, values in entry.items():
            figures[f"ratio_{kind}"] = math.exp(sum(values) / len(values)) if values else None
        figures["ratio_reference"] = reference


def evidence(part: PlatformRun) -> dict[str, Any]:
    """What a reader needs to trust a platform's numbers: where and how they were measured."""
    side = part.run
    env = side.environment or {}
    flags = side.flags or []
    probe = next(
        (
            f.get("evidence", {}).get("probe")
            for f in flags
            if f.get("code") == "infra_contention_suspected"
        ),
        None,
    )
    return {
        "platform": part.platform,
        "run_id": side.run_id,
        "runner": side.runner,
        "status": side.status,
        "fingerprint": side.fingerprint,
        "environment": {
            k: env.get(k)
            for k in ("hostname", "kernel", "arch", "cpu", "os", "python", "load", "top")
            if env.get(k) is not None
        },
        "noise_probe": probe,
        "noise_probe_failure": side.noise_probe_failure,
        "calibration_ns": part.calibration,
        "contamination": [f for f in flags if "contamin" in str(f.get("code"))],
        "flags": [{"code": f.get("code"), "message": f.get("message")} for f in flags],
    }


def from_outcome(outcome: Any) -> Aggregate:
    """A comparison as a two-column aggregation: the baseline, and the candidate with its
    changes and verdicts (``compare --format html`` renders it like a report)."""
    base_label, cand_label = "baseline", "candidate"
    samples = {
        label: {
            (b.name, m): list(metric.samples)
            for b in side.result.benchmarks
            for m, metric in b.metrics.items()
        }
        for label, side in ((base_label, outcome.base), (cand_label, outcome.cand))
    }
    rows = []
    for i, comp in enumerate(outcome.report.rows):
        cells = {}
        for label, summary in ((base_label, comp.base), (cand_label, comp.cand)):
            if summary is not None:
                cells[label] = Cell(
                    n=summary.n,
                    median=summary.median,
                    ci=summary.median_ci,
                    samples=samples[label].get((comp.benchmark, comp.metric), []),
                )
        if cand_label in cells:
            cell = cells[cand_label]
            cell.verdict = outcome.row_verdict(i)
            cell.change, cell.change_ci = comp.change, _minus_one(comp.ratio_ci)
            cell.baseline_median = comp.base.median if comp.base is not None else None
        row = Row(comp.benchmark, comp.metric, comp.unit or "", comp.direction, cells)
        row.consistency = outcome.row_verdict(i)
        row.ratios = ratios(row, base_label, {})
        rows.append(row)
    geo = {
        cand_label: {
            g.metric: {
                "change": g.change,
                "ci": _minus_one(g.ratio_ci),
                "verdict": g.verdict,
                "count": g.count,
            }
            for g in outcome.report.summary
        }
    }
    parts = [PlatformRun(base_label, outcome.base), PlatformRun(cand_label, outcome.cand)]
    described = [_describe(p) for p in parts]
    described[1]["baseline"] = outcome.base.label
    return Aggregate(
        platforms=described,
        reference=base_label,
        rows=rows,
        geomean=geo,
        evidence=[evidence(p) for p in parts if p.run.kind != "file"],
        settings=outcome.settings.to_dict(),
        gates={cand_label: [g.to_dict() for g in outcome.gates]},
    )
