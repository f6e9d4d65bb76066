"""Compare two sides: pair metrics, run the statistics, gates and waivers, decide the exit.

The numbers come from :mod:`perflab.stats` (pure); this module only pairs the
benchmarks and metrics of the two sides (converting units), reads the job's
comparison settings and gates, applies waivers, and refuses what cannot be
compared (a run with itself, different jobs, different evidence classes).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from perflab.compare.counted import Finding, compare_rows, findings
from perflab.compare.evidence import differences
from perflab.compare.gating import apply_waivers, gates_for, gates_measured
from perflab.compare.matching import check_names
from perflab.compare.sides import Side
from perflab.errors import ExitStatus, InputError
from perflab.model import exact_tolerance, unit_factor
from perflab.spec.units import fraction


@dataclass(frozen=True)
class Settings:
    noise_band: float = 0.01
    confidence: float = 0.95
    fdr: float | None = 0.05
    cv_limit: float = 0.05
    expected_tail: float | None = None
    seed: int = 0
    #: declared run-to-run spread (job ``compare.run_spread``, ``--run-spread``): None learns
    #: it from the job's history, or assumes the default when there is none
    run_spread: float | None = None
    baseline_runs: int = 1  # the baseline and its k - 1 predecessors
    counted_band: float | None = None  # None: perflab.compare.counted.BANDS

    def to_dict(self) -> dict[str, Any]:
        return {
            "noise_band": self.noise_band,
            "confidence": self.confidence,
            "fdr": self.fdr,
            "cv_limit": self.cv_limit,
            "expected_tail": self.expected_tail,
            "seed": self.seed,
            "run_spread": self.run_spread,
            "baseline_runs": self.baseline_runs,
            "counted_band": self.counted_band,
        }


def settings_for(spec: dict[str, Any], overrides: dict[str, Any]) -> Settings:
    """The job's ``compare:`` section, then command-line overrides."""
    compare = dict(spec.get("compare") or {})
    compare.update({k: v for k, v in overrides.items() if v is not None})

    def frac(key: str, default: float) -> float:
        value = fraction(compare.get(key))
        return default if value is None else value

    return Settings(
        noise_band=frac("noise_band", 0.01),
        confidence=float(compare.get("confidence", 0.95)),
        fdr=float(compare["fdr"]) if "fdr" in compare else 0.05,
        cv_limit=frac("cv_limit", 0.05),
        expected_tail=compare.get("expected_tail"),
        run_spread=fraction(compare.get("run_spread")),
        baseline_runs=int(compare.get("baseline_runs", 1)),
        counted_band=fraction(compare.get("counted_band")),
    )


@dataclass
class Outcome:
    base: Side
    cand: Side
    settings: Settings
    report: Any  # perflab.stats.CompareReport
    gates: list[Any] = field(default_factory=list)  # perflab.stats.GateResult
    waived: dict[int, dict[str, Any]] = field(default_factory=dict)  # row index -> waiver
    exceeded: dict[int, dict[str, Any]] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # time and counts together

    def row_verdict(self, index: int) -> str:
        row = self.report.rows[index]
        return "waived" if index in self.waived else str(row.verdict)

    @property
    def regressed_rows(self) -> list[int]:
        return [
            i
            for i, r in enumerate(self.report.rows)
            if r.verdict == "regressed" and i not in self.waived
        ]

    @property
    def failed_gates(self) -> list[Any]:
        return [g for g in self.gates if g.outcome == "fail"]

    @property
    def regression(self) -> bool:
        return bool(self.regressed_rows or self.failed_gates)

    @property
    def unmeasured_rows(self) -> list[int]:
        """Rows that could not be measured (contamination, a failed noise probe, modes that
        mix differently): their verdict is unknown whatever the numbers say."""
        return [i for i, r in enumerate(self.report.rows) if r.unmeasured]

    @property
    def exit_status(self) -> ExitStatus:
        """2 a regression or a failed gate; else 4 when a row or gate could not be
        measured; else 0."""
        if self.regression:
            return ExitStatus.REGRESSION
        if self.unmeasured_rows or any(g.unmeasured for g in self.gates):
            return ExitStatus.UNMEASURED
        return ExitStatus.OK

    def to_dict(self) -> dict[str, Any]:
        from perflab.compare.runs import spread_outliers

        report = self.report.to_dict()
        for i, row in enumerate(report["rows"]):
            row["verdict"] = self.row_verdict(i)
            if i in self.waived:
                row["waiver"] = self.waived[i]
            if i in self.exceeded:
                row["waiver_exceeded"] = self.exceeded[i]
        return {
            "baseline": self.base.describe(),
            "candidate": self.cand.describe(),
            "settings": self.settings.to_dict(),
            "forced_differences": self.differences,
            **report,
            "spread_outliers": spread_outliers(self.report.rows),
            "gates": [g.to_dict() for g in self.gates],
            "findings": [f.to_dict() for f in self.findings],
            "regression": self.regression,
            "unmeasured": len(self.unmeasured_rows) + sum(g.unmeasured for g in self.gates),
            "exit_status": int(self.exit_status),
        }


def _check_pair(base: Side, cand: Side, force: bool) -> list[str]:
    if base.run_id is not None and base.run_id == cand.run_id:
        raise InputError(
            f"comparing run {base.run_id} with itself tells nothing; "
            "compare it with a baseline or another run"
        )
    if base.job and cand.job and base.job != cand.job:
        raise InputError(
            f'runs of different jobs are not comparable ("{base.job}" vs "{cand.job}")'
        )
    diff = differences(base, cand)
    if diff and not force:
        raise InputError(
            "the two runs are of different evidence classes, not comparable as a "
            "regression: " + "; ".join(diff),
            hint="--force compares anyway (the differences are reported)",
        )
    return diff


def _pairs(
    base: Side, cand: Side, metrics: Sequence[str] | None, benchmarks: Sequence[str] | None
) -> list[tuple[str, str, Any, Any]]:
    keys: dict[tuple[str, str], list[Any]] = {}
    for index, side in enumerate((base, cand)):
        for benchmark in side.result.benchmarks:
            for metric_name, metric in benchmark.metrics.items():
                keys.setdefault((benchmark.name, metric_name), [None, None])[index] = metric
    out = []
    for (bench, name), (left, right) in keys.items():
        if metrics and not any(fnmatch.fnmatchcase(name, m) for m in metrics):
            continue
        if benchmarks and not any(fnmatch.fnmatchcase(bench, b) for b in benchmarks):
            continue
        out.append((bench, name, left, right))
    return out


def paired(base: Side, cand: Side) -> bool:
    """Variants of one experiment (A/B, --vary) are compared on paired repetitions."""
    return bool(base.experiment) and base.experiment == cand.experiment


def _aligned(
    side: Side, key: tuple[str, str], samples: list[float]
) -> dict[tuple[Any, int], float]:
    """Samples keyed by (repetition, n-th sample of that repetition)."""
    reps = side.repetitions.get(key) or [None] * len(samples)
    seen: dict[Any, int] = {}
    out = {}
    for rep, value in zip(reps, samples, strict=False):
        seen[rep] = seen.get(rep, -1) + 1
        out[(rep, seen[rep])] = value
    return out


def _pair_up(
    base: Side, cand: Side, key: tuple[str, str], left: list[float], right: list[float]
) -> tuple[list[float], list[float]]:
    a, b = _aligned(base, key, left), _aligned(cand, key, right)
    common = [k for k in a if k in b]
    return [a[k] for k in common], [b[k] for k in common]


Spreads = dict[tuple[str, str], tuple[float, str]]


def _inputs(
    pairs: list[tuple[str, str, Any, Any]],
    base: Side,
    cand: Side,
    settings: Settings,
    spreads: Spreads,
) -> tuple[list[Any], dict[int, str]]:
    """CompareInput per pair; pairs that cannot be compared get a reason instead."""
    from perflab.stats import CompareInput

    items, problems = [], {}
    is_paired = paired(base, cand)
    sides: dict[str, Any] = {  # the same for every row: read once
        "base_noise_probe_failure": base.noise_probe_failure,
        "cand_noise_probe_failure": cand.noise_probe_failure,
        "base_contamination": base.contamination,
        "cand_contamination": cand.contamination,
    }
    for i, (bench, name, left, right) in enumerate(pairs):
        unit = (left or right).unit
        direction = (left or right).direction
        cand_samples = None if right is None else list(right.samples)
        if left is not None and right is not None:
            factor = unit_factor(right.unit, left.unit)
            if factor is None:
                problems[i] = f"units differ: baseline {left.unit}, candidate {right.unit}"
            elif left.direction != right.direction:
                problems[i] = (
                    f"directions differ: baseline {left.direction}-is-better, "
                    f"candidate {right.direction}-is-better"
                )
            elif factor != 1.0:
                cand_samples = [v * factor for v in right.samples]
        base_samples = None if left is None else list(left.samples)
        if is_paired and base_samples is not None and cand_samples is not None:
            base_samples, cand_samples = _pair_up(
                base, cand, (bench, name), base_samples, cand_samples
            )
        tolerance = exact_tolerance(name)
        items.append(
            CompareInput(
                base=base_samples,
                cand=cand_samples,
                paired=is_paired and left is not None and right is not None,
                direction=direction,
                benchmark=bench,
                metric=name,
                unit=unit,
                exact=tolerance is not None,
                tolerance=tolerance or 0.0,
                **sides,
                **_run_structure(base, cand, (bench, name), settings, spreads),
            )
        )
    return items, problems


def _run_structure(
    base: Side, cand: Side, key: tuple[str, str], settings: Settings, spreads: Spreads
) -> dict[str, Any]:
    """Run and process labels of both sides' samples, and the run-to-run spread to allow
    for: declared by the job, else learned from history, else unknown (the default)."""
    if paired(base, cand) or key not in base.groups or key not in cand.groups:
        return {}
    spread: float | None
    if settings.run_spread is not None:
        spread, source = (
            settings.run_spread,
            (
                f"run-to-run spread {settings.run_spread:.1%} declared by the job "
                "(compare.run_spread)"
            ),
        )
    else:
        spread, source = spreads.get(key, (None, ""))
    return {
        "base_groups": base.groups[key],
        "cand_groups": cand.groups[key],
        "run_spread": spread,
        "run_spread_source": source,
    }


def compare_sides(
    base: Side,
    cand: Side,
    *,
    force: bool = False,
    waivers: list[dict[str, Any]] | None = None,
    overrides: dict[str, Any] | None = None,
    metrics: Sequence[str] | None = None,
    benchmarks: Sequence[str] | None = None,
    spreads: Spreads | None = None,
) -> Outcome:
    """Everything `perflab compare` decides, without printing it. ``spreads``: the
    run-to-run spread per benchmark and metric learned from history (compare.runs)."""
    from perflab.stats import Comparison, compare_many

    diff = _check_pair(base, cand, force)
    spec = cand.job_spec or base.job_spec
    check_names(base, cand, spec, waivers=waivers or [], metrics=metrics, benchmarks=benchmarks)
    settings = settings_for(spec, overrides or {})
    pairs = _pairs(base, cand, metrics, benchmarks)
    if not pairs:
        raise InputError(
            "the two sides have no benchmark and metric in common to compare"
            + (" (after --metric/--benchmark filters)" if metrics or benchmarks else "")
        )
    inputs, problems = _inputs(pairs, base, cand, settings, spreads or {})

    def statistics(items: list[Any]) -> Any:
        return compare_many(
            items,
            noise_band=settings.noise_band,
            confidence=settings.confidence,
            fdr=settings.fdr,
            seed=settings.seed,
            cv_limit=settings.cv_limit,
            expected_tail=settings.expected_tail,
        )

    report = compare_rows(pairs, inputs, statistics, settings.counted_band)
    if problems:
        from dataclasses import replace

        rows = list(report.rows)
        for i, reason in problems.items():
            rows[i] = Comparison(
                benchmark=rows[i].benchmark,
                metric=rows[i].metric,
                unit=rows[i].unit,
                direction=rows[i].direction,
                verdict="not_comparable",
                reason=reason,
            )
        report = replace(report, rows=tuple(rows))
    gates = gates_for(spec, pairs, inputs, settings, report.rows)
    gates_measured(gates, report.rows)
    outcome = Outcome(
        base, cand, settings, report, gates, differences=diff, findings=findings(report.rows)
    )
    apply_waivers(outcome, waivers or [])
    return outcome


def compare_stored(
    store: Any,
    baseline: str,
    candidate: str,
    *,
    force: bool = False,
    overrides: dict[str, Any] | None = None,
    metrics: Sequence[str] | None = None,
    benchmarks: Sequence[str] | None = None,
) -> Outcome:
    """`perflab compare` on references (run ids, baseline names, files): the baseline
    widened to its job's ``baseline_runs``, the run-to-run spread learned from history."""
    from perflab.compare.runs import learned_spreads, widen_baseline
    from perflab.compare.sides import resolve_side

    cand = resolve_side(candidate, store)
    base = resolve_side(baseline, store, context=cand)
    settings = settings_for(cand.job_spec or base.job_spec, overrides or {})
    base = widen_baseline(store, base, cand, settings.baseline_runs)
    keys = list(cand.groups)
    waivers = store.baselines.waivers(
        job=cand.job or base.job, platform=cand.platform or base.platform
    )
    return compare_sides(
        base,
        cand,
        force=force,
        waivers=waivers,
        overrides=overrides,
        metrics=metrics,
        benchmarks=benchmarks,
        spreads=learned_spreads(store, cand, keys),
    )
