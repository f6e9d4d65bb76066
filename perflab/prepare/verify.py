"""``perflab verify``: the noise probe where benchmarks will run, before and after preparing."""

from __future__ import annotations

import time
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

    @property
    def iterations(self) -> int | None:
        """Loop iterations of the fixed work in the last probe."""
        return self.after.iterations

    @property
    def calibration(self) -> float | None:
        """ns per iteration of the probe's work loop (see :func:`calibration`)."""
        return calibration(self.after, self.iterations)

    @property
    def ok(self) -> bool:
        return self.after.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "prepared_by": self.prepared_by,
            "cpus": self.cpus,
            "ok": self.ok,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict(),
            "notes": self.notes,
            "calibration_ns_per_iteration": self.calibration,
        }


def calibration(verdict: NoiseVerdict, iterations: int | None) -> float | None:
    """The runner's speed figure: the median over the probed CPUs of (median time of the
    fixed work) / (its loop iterations), in ns. A runner with a slower clock (or a slower
    interpreter) has a larger figure; reports divide cross-platform ratios by it."""
    import statistics

    if not iterations or not verdict.cpus:
        return None
    return statistics.median(c.median_ns for c in verdict.cpus) / iterations


def history_file(host: RunnerHost) -> str:
    """Where the host keeps its judged probes (its quiet history calibrates the next)."""
    return f"{host.state_dir}/noise-history.json"


def run_probe(
    host: RunnerHost,
    cpus: list[int],
    *,
    repetitions: int,
    work_ms: float = 5.0,
    tasks_file: str | None = None,
) -> dict[str, Any]:
    """The probe's answer, with the host's history before it (``history``)."""
    request = {
        "cpus": cpus,
        "repetitions": repetitions,
        "work_ms": work_ms,
        "tasks_file": tasks_file,
        "history_file": history_file(host),
    }
    answer: dict[str, Any] = host.transport.call_hostside("noise", request, timeout=600)
    return answer


def judged_probe(
    host: RunnerHost,
    cpus: list[int],
    thresholds: dict[str, Any],
    *,
    repetitions: int,
    work_ms: float = 5.0,
    tasks_file: str | None = None,
) -> NoiseVerdict:
    """Probe, judge against the host's history, and keep the verdict in that history."""
    answer = run_probe(host, cpus, repetitions=repetitions, work_ms=work_ms, tasks_file=tasks_file)
    verdict = judge(answer, thresholds, work_ms=work_ms)
    now = time.time()
    host.transport.call_hostside(
        "noise",
        {
            "history_file": history_file(host),
            "record": [cpu.history_entry(now, work_ms) for cpu in verdict.cpus],
        },
        timeout=60,
    )
    return verdict


def reserved_cpus(host: RunnerHost) -> list[int]:
    ctx = host_context(host, engine._probe(host, BASE_FILES, processes=False))
    return list(ctx.reserved) or list(ctx.online)


def verify_runner(
    host: RunnerHost,
    profile: Profile | None,
    *,
    repetitions: int = 200,
    lock_wait: float | None = None,
) -> VerifyResult:
    """The noise probe on the reserved CPUs, holding the host lock: in the shield of a
    prepared runner; else as found and, with ``profile``, once more prepared by it
    (restored afterwards). A preparation whose run died is restored first."""
    with host_lock(host, "verify", wait=lock_wait) as held:
        state, note = engine.recover_stale(host, held.state)
        result = _verify(host, profile, state, repetitions, held)
    if note:
        result.notes.append(note)
    return result


def _verify(
    host: RunnerHost,
    profile: Profile | None,
    state: dict[str, Any] | None,
    repetitions: int,
    held: Held,
) -> VerifyResult:
    notes = (state or {}).get("notes") or {}
    thresholds = (profile.verify if profile else {}) or notes.get("verify") or {}
    work_ms = float(thresholds.get("work_ms", 5.0))
    repetitions = int(thresholds.get("repetitions", repetitions))
    if state and notes.get("shield"):
        shield = notes["shield"]
        cpus = parse_cpulist(shield["cpus"])
        after = judged_probe(
            host,
            cpus,
            thresholds,
            repetitions=repetitions,
            work_ms=work_ms,
            tasks_file=shield["tasks_file"],
        )
        return VerifyResult(host.name, str(state.get("profile")), cpus, None, after)
    cpus = reserved_cpus(host)
    before = judged_probe(host, cpus, thresholds, repetitions=repetitions, work_ms=work_ms)
    if profile is None:
        return VerifyResult(host.name, None, cpus, None, before)
    try:
        session = engine.plan_profile(host, profile)
        with signals.deferred():
            report = engine.apply(session, owner=held.owner_record("run"))
        shield = report.shield or {}
        cpus = parse_cpulist(shield["cpus"]) if shield else cpus
        after = judged_probe(
            host,
            cpus,
            thresholds,
            repetitions=repetitions,
            work_ms=work_ms,
            tasks_file=shield.get("tasks_file"),
        )
    finally:
        with signals.deferred():
            engine.restore(host)
    return VerifyResult(host.name, profile.name, cpus, before, after)
