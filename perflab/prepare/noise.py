"""Judge a noise probe (pure): is each reserved CPU quiet enough to measure on?

Per CPU: the fixed-work loop's median, its CV, its slowdown against the best
repetition (median/min and p95/min), involuntary context switches and
interrupts per second. Thresholds come from the profile's ``verify`` section;
the defaults are what a quiet core of a VM reaches here (see docs/profiles.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULTS: dict[str, float] = {
    "max_cv": 0.05,  # stdev/mean of the fixed work
    "max_slowdown": 1.10,  # median / best repetition
    "max_involuntary_per_s": 20.0,  # someone else was scheduled on this CPU
    "max_interrupts_per_s": 3000.0,  # timer ticks alone are 100-1000/s
}


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
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "n": self.n, "median_ns": self.median_ns, "cv": self.cv,
                "slowdown": self.slowdown, "p95_over_min": self.tail,
                "involuntary_per_s": self.involuntary_per_s,
                "interrupts_per_s": self.interrupts_per_s, "ok": self.ok,
                "failures": self.failures}


@dataclass
class NoiseVerdict:
    cpus: list[CpuVerdict]
    thresholds: dict[str, float]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cpus)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "thresholds": self.thresholds,
                "cpus": [c.to_dict() for c in self.cpus]}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def judge_cpu(cpu: int, data: Mapping[str, Any], limits: Mapping[str, float]) -> CpuVerdict:
    samples = [float(v) for v in data["ns"]]
    best = min(samples)
    median = statistics.median(samples)
    mean = statistics.fmean(samples)
    seconds = max(float(data["elapsed_ns"]) / 1e9, 1e-9)
    irq = data.get("interrupts")
    verdict = CpuVerdict(
        cpu=cpu, n=len(samples), median_ns=median,
        cv=statistics.stdev(samples) / mean if len(samples) > 1 else 0.0,
        slowdown=median / best, tail=_p95(samples) / best,
        involuntary_per_s=float(data["involuntary"]) / seconds,
        interrupts_per_s=None if irq is None else float(irq) / seconds)
    checks = [("max_cv", verdict.cv, "CV {:.1%} above {:.1%}"),
              ("max_slowdown", verdict.slowdown,
               "median {:.3f}x the best repetition, above {:.2f}x"),
              ("max_involuntary_per_s", verdict.involuntary_per_s,
               "{:.0f} involuntary context switches/s, above {:.0f}"),
              ("max_interrupts_per_s", verdict.interrupts_per_s,
               "{:.0f} interrupts/s, above {:.0f}")]
    for key, value, text in checks:
        if value is not None and value > limits[key]:
            verdict.failures.append(text.format(value, limits[key]))
    return verdict


def judge(answer: Mapping[str, Any], thresholds: Mapping[str, Any] | None = None) -> NoiseVerdict:
    limits = dict(DEFAULTS)
    limits.update({k: float(v) for k, v in (thresholds or {}).items() if k in DEFAULTS})
    cpus = [judge_cpu(int(cpu), data, limits) for cpu, data in sorted(
        answer["cpus"].items(), key=lambda item: int(item[0]))]
    return NoiseVerdict(cpus, limits)
