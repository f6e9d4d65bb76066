"""Judge a noise probe (pure): is each reserved CPU quiet enough to measure on?

Per CPU the probe measures a fixed-work loop (median, CV, slowdown against the
best repetition), involuntary context switches and interrupts per second, and
how much of the CPU other tasks used while it ran (busy time minus the probe's
own, and steal time). A CPU fails when:

* others used at least ``max_other_share`` of it (default 10%, the threshold of
  the ``contaminated`` run flag, perflab/stats/contamination.py), or steal took
  ``max_steal_share``: contamination is measured, not guessed from timing;
* the probe was preempted more than ``max_involuntary_per_s`` times a second
  (someone else was runnable on this CPU), or took ``max_interrupts_per_s``;
* its CV or slowdown is beyond what this host's own quiet history allows: the
  90th percentile of the quiet probes kept on the host (others below the
  threshold), times ``relative_margin`` (1.5). A VM whose quiet CPU shows a CV
  of 2-4% one minute and 20% the next (a sibling vCPU on the same core) is
  judged against itself, not against an absolute 5% that it fails 20 times in
  22. Until ``min_history`` quiet probes are kept, timing is not judged (the
  verdict rests on the contamination evidence and says "calibrating"), unless
  the profile's ``verify`` section sets ``max_cv`` / ``max_slowdown``, which are
  then absolute limits.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perflab.stats.contamination import REPETITION_SHARE

DEFAULTS: dict[str, float] = {
    "max_other_share": REPETITION_SHARE,  # others' share of the CPU while probing
    "max_steal_share": REPETITION_SHARE,  # the hypervisor's
    "max_involuntary_per_s": 20.0,  # someone else was scheduled on this CPU
    "max_interrupts_per_s": 3000.0,  # timer ticks alone are 100-1000/s
    "relative_margin": 1.5,  # x the 90th percentile of this host's quiet history
    "min_history": 5.0,  # quiet probes needed before timing is judged
}
#: absolute timing limits, only when a profile sets them (else relative to the history)
ABSOLUTE = ("max_cv", "max_slowdown")


@dataclass
class CpuVerdict:
    cpu: int
    n: int
    median_ns: float
    cv: float
    slowdown: float
    tail: float  # p95 / min
    involuntary_per_s: float
    interrupts_per_s: float | None
    other_share: float | None = None  # others' share of this CPU during the probe
    steal_share: float | None = None
    cv_limit: float | None = None  # None: not judged (calibrating)
    slowdown_limit: float | None = None
    quiet_history: int = 0  # quiet probes of this CPU kept on the host
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def contaminated(self) -> bool:
        return any(f.startswith(("other processes", "the hypervisor")) for f in self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu": self.cpu,
            "n": self.n,
            "median_ns": self.median_ns,
            "cv": self.cv,
            "slowdown": self.slowdown,
            "p95_over_min": self.tail,
            "involuntary_per_s": self.involuntary_per_s,
            "interrupts_per_s": self.interrupts_per_s,
            "other_share": self.other_share,
            "steal_share": self.steal_share,
            "cv_limit": self.cv_limit,
            "slowdown_limit": self.slowdown_limit,
            "quiet_history": self.quiet_history,
            "ok": self.ok,
            "failures": self.failures,
        }

    def history_entry(self, at: float, work_ms: float) -> dict[str, Any]:
        """What the host keeps of this probe (hostside/noise.py, ``record``)."""
        return {
            "at": at,
            "cpu": self.cpu,
            "work_ms": work_ms,
            "cv": self.cv,
            "slowdown": self.slowdown,
            "other": self.other_share,
            "steal": self.steal_share,
            "involuntary_per_s": self.involuntary_per_s,
            "ok": self.ok,
        }


@dataclass
class Record:
    """How the probe has judged this host so far: quiet probes (others below the
    threshold) that failed anyway, and contaminated ones that it caught."""

    quiet: int = 0
    quiet_failed: int = 0
    contaminated: int = 0
    contaminated_failed: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "quiet": self.quiet,
            "quiet_failed": self.quiet_failed,
            "contaminated": self.contaminated,
            "contaminated_failed": self.contaminated_failed,
        }


@dataclass
class NoiseVerdict:
    cpus: list[CpuVerdict]
    thresholds: dict[str, float]
    record: Record = field(default_factory=Record)
    iterations: int | None = None  # of the probe's fixed work loop (the calibration)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cpus)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "thresholds": self.thresholds,
            "cpus": [c.to_dict() for c in self.cpus],
            "record": self.record.to_dict(),
        }


def _p(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _share(data: Mapping[str, Any], key: str, own: float, elapsed: float) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    return max(float(value) - own, 0.0) / elapsed


def is_quiet(entry: Mapping[str, Any], limits: Mapping[str, float]) -> bool:
    """A history entry measured with others below the threshold."""
    other, steal = entry.get("other"), entry.get("steal")
    return (
        other is not None
        and float(other) < limits["max_other_share"]
        and float(steal or 0.0) < limits["max_steal_share"]
    )


def _timing_limits(
    verdict: CpuVerdict,
    history: Sequence[Mapping[str, Any]],
    limits: Mapping[str, float],
    work_ms: float | None,
) -> None:
    """The CV and slowdown limits from the quiet probes of this CPU with the same work."""
    quiet = [
        e
        for e in history
        if e.get("cpu") == verdict.cpu
        and is_quiet(e, limits)
        and (work_ms is None or e.get("work_ms") == work_ms)
    ]
    verdict.quiet_history = len(quiet)
    margin = limits["relative_margin"]
    if len(quiet) >= limits["min_history"]:
        verdict.cv_limit = _p([float(e["cv"]) for e in quiet], 0.9) * margin
        verdict.slowdown_limit = (
            1.0 + (_p([float(e["slowdown"]) for e in quiet], 0.9) - 1.0) * margin
        )
    if "max_cv" in limits:
        verdict.cv_limit = limits["max_cv"]
    if "max_slowdown" in limits:
        verdict.slowdown_limit = limits["max_slowdown"]


def judge_cpu(
    cpu: int,
    data: Mapping[str, Any],
    limits: Mapping[str, float],
    history: Sequence[Mapping[str, Any]] = (),
    work_ms: float | None = None,
) -> CpuVerdict:
    samples = [float(v) for v in data["ns"]]
    best = min(samples)
    median = statistics.median(samples)
    mean = statistics.fmean(samples)
    elapsed = max(float(data["elapsed_ns"]), 1.0)
    irq = data.get("interrupts")
    verdict = CpuVerdict(
        cpu=cpu,
        n=len(samples),
        median_ns=median,
        cv=statistics.stdev(samples) / mean if len(samples) > 1 else 0.0,
        slowdown=median / best,
        tail=_p(samples, 0.95) / best,
        involuntary_per_s=float(data["involuntary"]) / (elapsed / 1e9),
        interrupts_per_s=None if irq is None else float(irq) / (elapsed / 1e9),
        other_share=_share(data, "busy_ns", float(data.get("own_ns") or 0), elapsed),
        steal_share=_share(data, "steal_ns", 0.0, elapsed),
    )
    _timing_limits(verdict, history, limits, work_ms)
    checks = [
        (
            "max_other_share",
            verdict.other_share,
            f"other processes used {{:.0%}} of CPU {cpu} during the probe (limit {{:.0%}})",
        ),
        (
            "max_steal_share",
            verdict.steal_share,
            "the hypervisor stole {:.0%} of the CPU (limit {:.0%})",
        ),
        (
            "max_involuntary_per_s",
            verdict.involuntary_per_s,
            "{:.0f} involuntary context switches/s, above {:.0f}",
        ),
        ("max_interrupts_per_s", verdict.interrupts_per_s, "{:.0f} interrupts/s, above {:.0f}"),
    ]
    for key, value, text in checks:
        if value is None:
            continue
        over = value >= limits[key] if key.endswith("_share") else value > limits[key]
        if over:
            verdict.failures.append(text.format(value, limits[key]))
    quiet_text = (
        f" (this host's quiet probes: {verdict.quiet_history})" if "max_cv" not in limits else ""
    )
    if verdict.cv_limit is not None and verdict.cv > verdict.cv_limit:
        verdict.failures.append(f"CV {verdict.cv:.1%} above {verdict.cv_limit:.1%}{quiet_text}")
    if verdict.slowdown_limit is not None and verdict.slowdown > verdict.slowdown_limit:
        verdict.failures.append(
            f"median {verdict.slowdown:.3f}x the best repetition, above "
            f"{verdict.slowdown_limit:.3f}x{quiet_text}"
        )
    return verdict


def host_record(history: Sequence[Mapping[str, Any]], limits: Mapping[str, float]) -> Record:
    record = Record()
    for entry in history:
        failed = not entry.get("ok", True)
        if is_quiet(entry, limits):
            record.quiet += 1
            record.quiet_failed += failed
        elif entry.get("other") is not None:
            record.contaminated += 1
            record.contaminated_failed += failed
    return record


def limits_from(thresholds: Mapping[str, Any] | None) -> dict[str, float]:
    limits = dict(DEFAULTS)
    limits.update(
        {k: float(v) for k, v in (thresholds or {}).items() if k in DEFAULTS or k in ABSOLUTE}
    )
    return limits


def judge(
    answer: Mapping[str, Any],
    thresholds: Mapping[str, Any] | None = None,
    history: Sequence[Mapping[str, Any]] | None = None,
    work_ms: float | None = None,
) -> NoiseVerdict:
    """The verdict on a probe ``answer``, against this host's ``history`` (the answer's own
    ``history`` when not given: what the host kept before this probe) of probes with the
    same ``work_ms`` (any, when None)."""
    limits = limits_from(thresholds)
    past = list(answer.get("history") or []) if history is None else list(history)
    cpus = [
        judge_cpu(int(cpu), data, limits, past, work_ms)
        for cpu, data in sorted(answer["cpus"].items(), key=lambda item: int(item[0]))
    ]
    iterations = answer.get("iterations")
    return NoiseVerdict(
        cpus, limits, host_record(past, limits), iterations=int(iterations) if iterations else None
    )
