"""From a job, its ``pin`` and the CPUs it owns: environment, scheduling, probes (pure).

The CPUs are the ones the benchmark really owns: the placement perflab chose,
which on a prepared runner is the shield read back from the host (never the
profile's intent). Unpinned (``cpus: all`` or a one-CPU host), they are the
host's online CPUs: the whole machine, said as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perflab.facts.cpulist import format_cpulist
from perflab.pinning import probes
from perflab.pinning.detect import detect
from perflab.pinning.runtimes import KNOWN, READS, Setting, apply, derive
from perflab.spec.job import Job
from perflab.spec.pin import PinSpec

PROBE_TIMEOUT = 300.0  # the go probe may compile the runtime once on a fresh host
RUNTIME_KEYS = tuple(sorted({k for keys in READS.values() for k in keys}))
NEEDS = {
    "erlang": "erl is needed to run Erlang and to ask it what it did",
    "go": "go builds the probe that asks the Go runtime (pin.proof: false skips it)",
    "jvm": "java runs the probe that asks the JVM (pin.proof: false skips it)",
}


@dataclass(frozen=True)
class Group:
    """Benchmarks that get the same runtime environment share one set of probes."""

    index: int
    benchmarks: list[str]
    env: dict[str, str]  # what perflab adds to their environment
    settings: list[Setting]
    probes: dict[str, str] = field(default_factory=dict)  # probe kind -> step id

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmarks": self.benchmarks,
            "env": self.env,
            "settings": [s.to_dict() for s in self.settings],
            "probes": self.probes,
        }


@dataclass(frozen=True)
class PinPlan:
    spec: PinSpec
    runtimes: list[str]
    detected: list[str] | None  # what ``auto`` recognised (None unless runtime: auto)
    cpus: list[int]
    pinned: bool
    groups: list[Group]
    bench_env: list[dict[str, str]]  # per benchmark index
    steps: list[dict[str, Any]]  # probe steps for the harness
    sched: dict[str, Any] | None
    require: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.spec.to_dict(),
            "runtimes": self.runtimes,
            "detected": self.detected,
            "cpus": format_cpulist(self.cpus),
            "pinned": self.pinned,
            "sched": self.sched,
            "groups": [g.to_dict() for g in self.groups],
        }

    def fingerprint_data(self) -> dict[str, Any]:
        """What enters the tuning fingerprint: the settings, never the runtimes' answers."""
        return {
            "runtimes": self.runtimes,
            "policy": str(self.spec.policy),
            "nice": self.spec.nice,
            "realtime_limit": self.spec.realtime_limit,
            "settings": [
                {
                    "benchmarks": g.benchmarks,
                    "values": sorted(f"{s.runtime}:{s.name}={s.value}" for s in g.settings),
                }
                for g in self.groups
            ],
        }


def resolve_runtimes(spec: PinSpec, job: Job) -> tuple[list[str], list[str] | None]:
    """The runtimes to configure, and (for ``auto``) what was recognised in the commands."""
    if spec.runtime == "none":
        return [], None
    if spec.runtime != "auto":
        return [spec.runtime], None
    found = detect(b.command for b in job.benchmarks)
    return (found or list(KNOWN)), found


def sched_request(spec: PinSpec) -> dict[str, Any] | None:
    """What the harness applies to benchmark and probe steps (never to setup steps)."""
    if not spec.policy.realtime and spec.nice is None:
        return None
    limit = spec.realtime_limit
    return {
        "policy": spec.policy.name,
        "priority": spec.policy.priority,
        "nice": spec.nice,
        "rttime_us": int(limit * 1e6) if limit is not None else None,
        "field": "pin.policy" if spec.policy.realtime else "pin.nice",
    }


def _probe_kinds(plan_runtimes: Sequence[str], detected: list[str] | None) -> list[str]:
    chosen = plan_runtimes if detected is None else detected
    return ["os", *[r for r in chosen if r in probes.PROGRAMS]]


def plan_pin(
    job: Job,
    spec: PinSpec,
    cpus: Sequence[int],
    *,
    pinned: bool,
    extra_env: Mapping[str, str],
    python: str,
    rundir: str,
) -> PinPlan:
    """Everything perflab passes and asks for a run of ``job`` on ``cpus``."""
    runtimes, detected = resolve_runtimes(spec, job)
    derived = [s for r in runtimes for s in derive(r, cpus, spec.erlang)]
    groups: dict[tuple[tuple[str, str], ...], Group] = {}
    bench_env: list[dict[str, str]] = []
    for bench in job.benchmarks:
        explicit = {**job.env, **extra_env, **bench.env}
        env, settings = apply(derived, explicit, bench.command)
        bench_env.append(env)
        seen = {**{k: v for k, v in explicit.items() if k in RUNTIME_KEYS}, **env}
        key = tuple(sorted(seen.items()))
        if key not in groups:
            groups[key] = Group(len(groups) + 1, [], env, settings)
        groups[key].benchmarks.append(bench.name)
    kinds = _probe_kinds(runtimes, detected) if spec.wants_proof else []
    steps = _probe_steps(list(groups.values()), job, kinds, python, rundir)
    return PinPlan(
        spec,
        runtimes,
        detected,
        sorted(cpus),
        pinned,
        list(groups.values()),
        bench_env,
        steps,
        sched_request(spec),
        _require(kinds),
    )


def _probe_steps(
    groups: list[Group], job: Job, kinds: list[str], python: str, rundir: str
) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for group in groups:
        first = next(b for b in job.benchmarks if b.name == group.benchmarks[0])
        env = {**{k: v for k, v in first.env.items() if k in RUNTIME_KEYS}, **group.env}
        for kind in kinds:
            sid = f"probe-{kind}-{group.index}"
            group.probes[kind] = sid
            steps.append(
                {
                    "id": sid,
                    "kind": "probe",
                    "benchmark": None,
                    "index": len(steps) + 1,
                    "env": env,
                    "timeout": PROBE_TIMEOUT,
                    "output": None,
                    "probe": kind,
                    "group": group.index,
                    **probes.command(kind, python=python, rundir=rundir, keys=RUNTIME_KEYS),
                }
            )
    return steps


def _require(kinds: Sequence[str]) -> list[dict[str, str]]:
    return [
        {
            "program": probes.PROGRAMS[k],
            "field": "pin.runtime",
            "message": f'pin.runtime "{k}": "{probes.PROGRAMS[k]}" is not installed on the '
            f"runner ({NEEDS[k]})",
        }
        for k in kinds
        if k in probes.PROGRAMS
    ]


def with_env(plan: PinPlan, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Benchmark steps with the runtime environment added (it contains the job's own value
    where both share a carrier such as ``ERL_AFLAGS``, so it goes last)."""
    return [
        {**step, "env": {**step["env"], **plan.bench_env[step["benchmark"]]}}
        if step.get("benchmark") is not None
        else step
        for step in steps
    ]


def with_probes(plan: PinPlan, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The probes before the first benchmark step (after the setup steps, so a probe sees
    what the build produced)."""
    first = next((i for i, s in enumerate(steps) if s["kind"] != "setup"), len(steps))
    return [*steps[:first], *plan.steps, *steps[first:]]


def with_pinning(plan: PinPlan, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return with_probes(plan, with_env(plan, steps))
