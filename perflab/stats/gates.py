"""Gates from the job file, decided by confidence intervals, not single numbers.

A gate is the job file's mapping::

    {metric: time, benchmark: "BM_*", stat: p95, max_increase: "10%"}
    {metric: throughput, stat: median, max_decrease: 0.1}
    {metric: latency, stat: p99, max: "200us"}          # an SLO, no baseline needed

Each bound is a check with outcome ``pass`` (the whole CI is on the allowed
side), ``fail`` (the whole CI is beyond the limit), ``unknown`` (the CI
contains the limit: more samples would decide) or ``not_comparable`` (bad or
missing data). A gate fails if any check fails, passes if all pass.

Relative bounds use a seeded bootstrap CI of stat(candidate) / stat(baseline). When the
samples of both sides carry their runs and processes (:class:`RunLevel`: stored runs, as
``compare`` sees them), that CI is the run-level one ``compare`` decides on (runs ->
processes -> iterations, plus the run-to-run spread a side of few runs cannot show;
:mod:`perflab.stats.hierarchy`): the median's is the comparison row's own interval, other
statistics are bootstrapped the same way. A gate then never calls a change that the
comparison of the same runs calls unknown.
Absolute bounds on a quantile (median, p90, p95, p99) use the distribution-free
order-statistic CI; on the mean a bootstrap CI. ``min`` and ``max`` of a run
are taken as observed: no finite sample bounds a population extreme.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal, NamedTuple

import numpy as np

from perflab.stats._common import (
    FloatArray,
    check_count,
    check_direction,
    check_fraction,
    jf,
    jpair,
    sample_problem,
)
from perflab.stats.bootstrap import DEFAULT_RESAMPLES, percentile_bounds, resample_stat
from perflab.stats.hierarchy import MIN_RESAMPLED_RUNS, Tree, stat_replicates
from perflab.stats.summary import quantile_ci
from perflab.stats.thresholds import GateSpecError, parse_fraction, parse_quantity

Outcome = Literal["pass", "fail", "unknown", "not_comparable"]
STATS = ("median", "mean", "p90", "p95", "p99", "min", "max")
BOUNDS = ("max_increase", "max_decrease", "max", "min")
_QUANTILES = {"median": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True)
class RunLevel:
    """Both sides grouped by run and process, and the run-to-run spread the comparison
    allows for; ``median``: the comparison row's ratio and CI (the same interval)."""

    base: Tree
    cand: Tree
    spread: float
    median: tuple[float, tuple[float, float]] | None = None

    def describe(self) -> str:
        effect = (
            f", run-to-run spread {self.spread:.1%}"
            if min(self.base.run_count, self.cand.run_count) < MIN_RESAMPLED_RUNS
            else ""
        )
        return f"run-level: {self.base.run_count} and {self.cand.run_count} runs{effect}"


@dataclass(frozen=True)
class GateCheck:
    """One bound of a gate. ``estimate``/``ci`` are a ratio for relative bounds."""

    bound: str
    limit: float
    limit_text: str
    outcome: Outcome
    reason: str
    estimate: float | None = None
    ci: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bound": self.bound,
            "limit": jf(self.limit),
            "limit_text": self.limit_text,
            "outcome": self.outcome,
            "reason": self.reason,
            "estimate": jf(self.estimate),
            "ci": jpair(self.ci),
        }


@dataclass(frozen=True)
class GateResult:
    """The gate's combined outcome and its checks."""

    name: str
    metric: str
    stat: str
    outcome: Outcome
    reason: str
    checks: tuple[GateCheck, ...]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "stat": self.stat,
            "outcome": self.outcome,
            "reason": self.reason,
            "confidence": self.confidence,
            "checks": [c.to_dict() for c in self.checks],
        }


def gate_applies(gate: Mapping[str, Any], benchmark: str, metric: str) -> bool:
    """Whether a gate covers this benchmark x metric (``benchmark`` is a glob, default all)."""
    pattern = gate.get("benchmark")
    return gate.get("metric") == metric and (pattern is None or fnmatchcase(benchmark, pattern))


def evaluate_gate(
    gate: Mapping[str, Any],
    base: Sequence[float] | None,
    cand: Sequence[float],
    *,
    direction: str = "lower",
    unit: str | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    runs: RunLevel | None = None,
) -> GateResult:
    """Evaluate one gate; GateSpecError for a malformed gate, never for bad samples.
    ``runs``: relative bounds are decided on the run-level interval (see the module)."""
    check_fraction("confidence", confidence, open_low=True)
    check_count("seed", seed)
    check_count("resamples", resamples)
    if (problem := check_direction(direction)) is not None:
        raise GateSpecError(problem, field="direction")
    stat = _stat_name(gate)
    bounds = [b for b in BOUNDS if b in gate]
    if not bounds:
        raise GateSpecError(
            "a gate needs one of max_increase, max_decrease, max, min", field="gate"
        )
    specs = [_limit(b, gate[b], unit) for b in bounds]
    ctx = _Context(stat, direction, unit, confidence, seed, resamples, runs)
    checks = tuple(_check(ctx, spec, base, cand) for spec in specs)
    outcome = _combine([c.outcome for c in checks])
    name = str(gate.get("name") or _describe(gate, stat, bounds))
    reason = "; ".join(c.reason for c in checks if c.outcome == outcome) or checks[0].reason
    return GateResult(name, str(gate.get("metric", "")), stat, outcome, reason, checks, confidence)


def _stat_name(gate: Mapping[str, Any]) -> str:
    stat = gate.get("stat", "median")
    if stat not in STATS:
        raise GateSpecError(f"expected one of {', '.join(STATS)}, got {stat!r}", field="stat")
    return str(stat)


class _Bound(NamedTuple):
    bound: str  # max_increase, max_decrease, max, min
    limit: float  # a ratio for relative bounds, else in the metric's unit
    text: str

    @property
    def relative(self) -> bool:
        return self.bound in ("max_increase", "max_decrease")

    @property
    def ceiling(self) -> bool:
        return self.bound in ("max_increase", "max")


def _limit(bound: str, raw: object, unit: str | None) -> _Bound:
    if bound in ("max_increase", "max_decrease"):
        fraction = parse_fraction(raw, bound)
        if bound == "max_decrease" and fraction >= 1:
            raise GateSpecError(
                f"a decrease of {fraction:.0%} or more cannot happen to a positive quantity",
                field=bound,
            )
        sign = "+" if bound == "max_increase" else "-"
        return _Bound(
            bound, 1.0 + fraction if sign == "+" else 1.0 - fraction, f"{sign}{fraction * 100:.4g}%"
        )
    return _Bound(bound, parse_quantity(raw, unit, bound), str(raw))


def _describe(gate: Mapping[str, Any], stat: str, bounds: list[str]) -> str:
    where = f" of {gate['benchmark']}" if "benchmark" in gate else ""
    return f"{stat} {gate.get('metric', '')}{where}: " + ", ".join(f"{b} {gate[b]}" for b in bounds)


def _combine(outcomes: list[Outcome]) -> Outcome:
    for outcome in ("fail", "not_comparable", "unknown"):
        if outcome in outcomes:
            return outcome
    return "pass"


@dataclass(frozen=True)
class _Context:
    stat: str
    direction: str
    unit: str | None
    confidence: float
    seed: int
    resamples: int
    runs: RunLevel | None = None


def _check(
    ctx: _Context, spec: _Bound, base: Sequence[float] | None, cand: Sequence[float]
) -> GateCheck:
    problem = _data_problem(spec.relative, base, cand, ctx.unit)
    if problem:
        return GateCheck(spec.bound, spec.limit, spec.text, "not_comparable", problem)
    c = np.sort(np.asarray(cand, dtype=np.float64))
    if spec.relative and ctx.runs is not None:
        est, ci = _run_ratio_ci(ctx, ctx.runs)
    elif spec.relative:
        b = np.sort(np.asarray(base, dtype=np.float64))
        est, ci = _ratio_ci(ctx, b, c)
    else:
        est, ci = _value_ci(ctx, c)
    return _decide(ctx, spec, est=est, ci=ci, n=int(c.size))


def _data_problem(
    relative: bool, base: Sequence[float] | None, cand: Sequence[float], unit: str | None
) -> str | None:
    if relative and base is None:
        return "a relative limit needs a baseline, and there is none"
    found = sample_problem(cand, unit, positive=relative)
    if found:
        return f"candidate: {found}"
    if relative and base is not None:
        found = sample_problem(base, unit)
        return f"baseline: {found}" if found else None
    return None


def _stat_fn(stat: str) -> Callable[[FloatArray], FloatArray]:
    if stat in _QUANTILES:
        q = _QUANTILES[stat] * 100.0
        return lambda x: np.asarray(np.percentile(x, q, axis=1))
    return {
        "mean": lambda x: x.mean(axis=1),
        "min": lambda x: x.min(axis=1),
        "max": lambda x: x.max(axis=1),
    }[stat]


def _ratio_ci(ctx: _Context, b: FloatArray, c: FloatArray) -> tuple[float, tuple[float, float]]:
    fn = _stat_fn(ctx.stat)
    point_b, point_c = float(fn(b[None, :])[0]), float(fn(c[None, :])[0])
    if point_b <= 0:
        return float("nan"), (float("nan"), float("nan"))
    rb = resample_stat(b, fn, resamples=ctx.resamples, seed=ctx.seed, stream=10)
    rc = resample_stat(c, fn, resamples=ctx.resamples, seed=ctx.seed, stream=11)
    with np.errstate(divide="ignore", invalid="ignore"):
        reps = np.where(rb > 0, rc / rb, np.inf)
    lo, hi = percentile_bounds(reps[None, :], 1.0 - ctx.confidence)
    return point_c / point_b, (float(lo[0]), float(hi[0]))


_NAN_STATS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "mean": lambda x: np.nanmean(x, axis=1),
    "min": lambda x: np.nanmin(x, axis=1),
    "max": lambda x: np.nanmax(x, axis=1),
}


def _nan_quantile(q: float) -> Callable[[FloatArray], FloatArray]:
    """Each row's q-th percentile over its non-NaN values (numpy's "linear" rule), by one
    sort: ``np.nanpercentile`` takes 200x longer on 2000 x 30 (it goes row by row)."""

    def fn(x: FloatArray) -> FloatArray:
        ordered = np.sort(x, axis=1)  # NaN last
        valid = np.maximum((~np.isnan(ordered)).sum(axis=1), 1)
        pos = (valid - 1) * (q / 100.0)
        low = np.floor(pos).astype(np.int64)
        high = np.minimum(low + 1, valid - 1)
        rows = np.arange(x.shape[0])
        frac = pos - low
        return np.asarray(
            ordered[rows, low] * (1.0 - frac) + ordered[rows, high] * frac, dtype=np.float64
        )

    return fn


def _run_ratio_ci(ctx: _Context, runs: RunLevel) -> tuple[float, tuple[float, float]]:
    """The run-level CI of stat(candidate) / stat(baseline): the comparison's own for the
    median, else the hierarchical bootstrap of the statistic (see the module)."""
    if ctx.stat == "median" and runs.median is not None:
        return runs.median
    fn = _NAN_STATS.get(ctx.stat) or _nan_quantile(_QUANTILES[ctx.stat] * 100.0)
    pooled = [np.concatenate([p for run in t.runs for p in run]) for t in (runs.base, runs.cand)]
    point_b, point_c = (float(fn(v[None, :])[0]) for v in pooled)
    if point_b <= 0 or point_c <= 0:
        return float("nan"), (float("nan"), float("nan"))
    reps = [
        _side_reps(ctx, t, fn, 20 + i, runs.spread) for i, t in enumerate((runs.base, runs.cand))
    ]
    lo, hi = percentile_bounds(np.exp(reps[1] - reps[0])[None, :], 1.0 - ctx.confidence)
    return point_c / point_b, (float(lo[0]), float(hi[0]))


def _side_reps(
    ctx: _Context, side: Tree, fn: Callable[[FloatArray], FloatArray], stream: int, spread: float
) -> FloatArray:
    """A side's log replicates of the statistic. One run of one-sample processes (a stored
    run of any format that gives one sample per repetition) is the plain bootstrap of its
    samples plus the run effect: the same draw as stat_replicates, at the sample-level
    bootstrap's speed."""
    count = 2 * max(ctx.resamples // 2, 1)
    flat = [p for run in side.runs for p in run]
    if side.run_count > 1 or any(p.size != 1 for p in flat):
        return stat_replicates(side, fn, count=count, seed=ctx.seed, stream=stream, spread=spread)
    values = np.sort(np.concatenate(flat))
    plain = resample_stat(values, _stat_fn(ctx.stat), resamples=count, seed=ctx.seed, stream=stream)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(plain)
    if spread > 0:
        logs = logs + np.random.default_rng([ctx.seed, stream, 606]).standard_normal(count) * spread
    return np.asarray(logs, dtype=np.float64)


def _value_ci(ctx: _Context, c: FloatArray) -> tuple[float, tuple[float, float]]:
    fn = _stat_fn(ctx.stat)
    point = float(fn(c[None, :])[0])
    if ctx.stat in _QUANTILES:
        lo, hi, _ = quantile_ci(c, _QUANTILES[ctx.stat], ctx.confidence)
        return point, (lo, hi)
    if ctx.stat == "mean":
        reps = resample_stat(c, fn, resamples=ctx.resamples, seed=ctx.seed, stream=12)
        blo, bhi = percentile_bounds(reps[None, :], 1.0 - ctx.confidence)
        return point, (float(blo[0]), float(bhi[0]))
    return point, (point, point)


def _decide(
    ctx: _Context, spec: _Bound, *, est: float, ci: tuple[float, float], n: int
) -> GateCheck:
    if not np.isfinite(est):
        return GateCheck(
            spec.bound,
            spec.limit,
            spec.text,
            "not_comparable",
            f"baseline {ctx.stat} is zero: a ratio is undefined",
        )
    beyond = ci[0] > spec.limit if spec.ceiling else ci[1] < spec.limit
    within = ci[1] <= spec.limit if spec.ceiling else ci[0] >= spec.limit
    outcome: Outcome = "fail" if beyond else "pass" if within else "unknown"
    reason = _gate_reason(ctx, spec, est=est, ci=ci, outcome=outcome, n=n)
    return GateCheck(spec.bound, spec.limit, spec.text, outcome, reason, est, ci)


def _gate_reason(
    ctx: _Context, spec: _Bound, *, est: float, ci: tuple[float, float], outcome: Outcome, n: int
) -> str:
    level = f"{ctx.confidence:.0%} CI"
    if spec.relative:
        worse = (est > 1) == (ctx.direction == "lower")
        moved = "" if est == 1 else f", {'worse' if worse else 'better'}"
        shown = f"{ctx.stat} {est - 1:+.1%}{moved} ({level} {ci[0] - 1:+.1%} .. {ci[1] - 1:+.1%})"
    else:
        unit = f" {ctx.unit}" if ctx.unit else ""
        shown = f"{ctx.stat} {est:.4g}{unit} ({level} {ci[0]:.4g} .. {ci[1]:.4g})"
    if spec.relative and ctx.runs is not None:
        shown = f"{shown[:-1]}; {ctx.runs.describe()})"
    limit = spec.text
    verb = {"pass": "is within", "fail": "is beyond", "unknown": "straddles"}[outcome]
    tail = " (more samples would decide)" if outcome == "unknown" else ""
    if outcome == "unknown" and not all(np.isfinite(ci)) and ctx.stat in _QUANTILES:
        need = samples_to_bound(_QUANTILES[ctx.stat], ctx.confidence)
        tail = f": {n} samples cannot bound {ctx.stat} at this confidence, it takes at least {need}"
    return f"{shown} {verb} the limit {limit}{tail}"


def samples_to_bound(q: float, confidence: float) -> int:
    """Fewest samples whose largest (or smallest) value bounds the q-quantile at this confidence."""
    tail = (1.0 - confidence) / 2.0
    p = max(q, 1.0 - q)
    return int(np.ceil(np.log(tail) / np.log(p)))
