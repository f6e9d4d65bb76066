"""``perflab verify``: the noise probe where benchmarks will run, before and after preparing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perflab import signals
from perflab.facts.cpulist import parse_cpulist
from perflab.prepare import engine
from perflab.prepare.host import BASE_FILES, RunnerHost, host_context
from perflab.prepare.lock import Held, host_lock
from perflab.prepare.noise import NoiseVerdict, judge
from perflab.spec.playbook import Profile


@dataclass
class VerifyResult:
    host: str
    prepared_by: str | None
    cpus: list[int]
    before: NoiseVerdict | None
    after: NoiseVerdict
    notes: list[str] = field(default_factory=list)
    iterations: int | None = None  # of the fixed work loop in the last probe

    @property
    def calibration(self) -> float | None:
        """ns per iteration of the probe's work loop (see :func:`calibration`)."""
        return calibration(self.after, self.iterations)

    @property
    def ok(self) -> bool:
        return self.after.ok

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "prepared_by": self.prepared_by, "cpus": self.cpus,
                "ok": self.ok, "before": self.before.to_dict() if self.before else None,
                "after": self.after.to_dict(), "notes": self.notes,
                "calibration_ns_per_iteration": self.calibration}


def calibration(verdict: NoiseVerdict, iterations: int | None) -> float | None:
    """The runner's speed figure: the median over the probed CPUs of (median time of the
    fixed work) / (its loop iterations), in ns. A runner with a slower clock (or a slower
    interpreter) has a larger figure; reports divide cross-platform ratios by it."""
    import statistics

    if not iterations or not verdict.cpus:
        return None
    return statistics.median(c.median_ns for c in verdict.cpus) / iterations


def run_probe(host: RunnerHost, cpus: list[int], *, repetitions: int, work_ms: float = 5.0,
              tasks_file: str | None = None) -> dict[str, Any]:
    request = {"cpus": cpus, "repetitions": repetitions, "work_ms": work_ms,
               "tasks_file": tasks_file}
    answer: dict[str, Any] = host.transport.call_hostside("noise", request, timeout=600)
    return answer


def reserved_cpus(host: RunnerHost) -> list[int]:
    ctx = host_context(host, engine._probe(host, BASE_FILES, processes=False))
    return list(ctx.reserved) or list(ctx.online)


def verify_runner(host: RunnerHost, profile: Profile | None, *, repetitions: int = 200,
                  lock_wait: float | None = None) -> VerifyResult:
    """The noise probe on the reserved CPUs, holding the host lock: in the shield of a
    prepared runner; else as found and, with ``profile``, once more prepared by it
    (restored afterwards). A preparation whose run died is restored first."""
    with host_lock(host, "verify", wait=lock_wait) as held:
        state, note = engine.recover_stale(host, held.state)
        result = _verify(host, profile, state, repetitions, held)
    if note:
        result.notes.append(note)
    return result


def _verify(host: RunnerHost, profile: Profile | None, state: dict[str, Any] | None,
            repetitions: int, held: Held) -> VerifyResult:
    notes = (state or {}).get("notes") or {}
    thresholds = (profile.verify if profile else {}) or notes.get("verify") or {}
    work_ms = float(thresholds.get("work_ms", 5.0))
    repetitions = int(thresholds.get("repetitions", repetitions))
    if state and notes.get("shield"):
        shield = notes["shield"]
        cpus = parse_cpulist(shield["cpus"])
        after = run_probe(host, cpus, repetitions=repetitions, work_ms=work_ms,
                          tasks_file=shield["tasks_file"])
        return VerifyResult(host.name, str(state.get("profile")), cpus, None,
                            judge(after, thresholds), iterations=after.get("iterations"))
    cpus = reserved_cpus(host)
    first = run_probe(host, cpus, repetitions=repetitions, work_ms=work_ms)
    before = judge(first, thresholds)
    if profile is None:
        return VerifyResult(host.name, None, cpus, None, before,
                            iterations=first.get("iterations"))
    try:
        session = engine.plan_profile(host, profile)
        with signals.deferred():
            report = engine.apply(session, owner=held.owner_record("run"))
        shield = report.shield or {}
        cpus = parse_cpulist(shield["cpus"]) if shield else cpus
        after = run_probe(host, cpus, repetitions=repetitions, work_ms=work_ms,
                          tasks_file=shield.get("tasks_file"))
    finally:
        with signals.deferred():
            engine.restore(host)
    return VerifyResult(host.name, profile.name, cpus, before, judge(after, thresholds),
                        iterations=after.get("iterations"))
