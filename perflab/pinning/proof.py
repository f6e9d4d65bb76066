"""Compare what the runtimes and /proc answered with what was applied (pure).

A check fails when a runtime did not do what it was told (Erlang with more
online schedulers than ``+S`` said, a scheduler bound outside the owned CPUs,
``GOMAXPROCS`` ignored), or when the OS placement is not what perflab set up
(another ``Cpus_allowed_list``, another policy or nice value, a variable that
did not arrive). A failed check marks the run, with the evidence, like a failed
noise probe; a probe that could not answer marks it as unproven.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perflab.facts.cpulist import format_cpulist
from perflab.pinning import erlang, probes
from perflab.pinning.plan import Group, PinPlan
from perflab.pinning.runtimes import JVM_FLAG, Setting


@dataclass(frozen=True)
class ProbeResult:
    """What one probe step left: its stdout, or why it failed."""

    id: str
    kind: str
    group: int
    ok: bool
    output: str
    error: str | None = None


@dataclass(frozen=True)
class Check:
    group: int
    probe: str
    what: str
    expected: Any
    got: Any

    @property
    def ok(self) -> bool:
        return bool(self.expected == self.got)

    def message(self) -> str:
        return f"{self.probe} {self.what} is {_show(self.got)}, expected {_show(self.expected)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "probe": self.probe,
            "what": self.what,
            "expected": self.expected,
            "got": self.got,
            "ok": self.ok,
        }


def _show(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return f'"{format_cpulist(value)}"' if value else '""'
    return repr(value) if isinstance(value, str) else str(value)


@dataclass
class Proof:
    checks: list[Check] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    unproven: dict[str, str] = field(default_factory=dict)

    @property
    def mismatches(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.mismatches and not self.unproven,
            "checks": [c.to_dict() for c in self.checks],
            "answers": self.answers,
            "unproven": self.unproven,
        }

    def flags(self, evidence: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        if self.mismatches:
            out.append(
                {
                    "code": "pin_mismatch",
                    "message": "the benchmark's scheduling is not what was applied: "
                    + "; ".join(c.message() for c in self.mismatches),
                    "evidence": evidence,
                }
            )
        if self.unproven:
            out.append(
                {
                    "code": "pin_unproven",
                    "message": "could not ask: "
                    + "; ".join(f"{k}: {v}" for k, v in self.unproven.items()),
                    "evidence": evidence,
                }
            )
        return out


def _value(settings: Sequence[Setting], name: str) -> str | None:
    """The applied value a probe can see: not one on the benchmark's own command line."""
    return next((s.value for s in settings if s.name == name and s.source != "job command"), None)


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def os_checks(plan: PinPlan, group: Group, answer: Mapping[str, Any]) -> list[Check]:
    spec, g = plan.spec, group.index
    checks = []
    if plan.pinned:
        checks.append(Check(g, "os", "Cpus_allowed_list", plan.cpus, answer["cpus_allowed"]))
    if spec.source("policy") != "default":
        checks.append(Check(g, "os", "policy", spec.policy.name, answer["policy"]))
    if spec.policy.realtime:
        checks.append(Check(g, "os", "rt priority", spec.policy.priority, answer["priority"]))
        limit = int(spec.realtime_limit * 1e6) if spec.realtime_limit else None
        checks.append(Check(g, "os", "RLIMIT_RTTIME (us)", limit, answer["rttime_us"]))
    if spec.nice is not None:
        checks.append(Check(g, "os", "nice", spec.nice, answer["nice"]))
    checks += [
        Check(g, "os", f"${name}", value, answer["env"].get(name))
        for name, value in sorted(group.env.items())
    ]
    return checks


def erlang_checks(plan: PinPlan, group: Group, answer: Mapping[str, Any]) -> list[Check]:
    g, checks = group.index, []
    total, online = erlang.schedulers(_value(group.settings, "+S") or "")
    if total is not None:
        checks.append(Check(g, "erlang", "schedulers", total, answer.get("schedulers")))
    if online is not None:
        checks.append(
            Check(g, "erlang", "schedulers_online", online, answer.get("schedulers_online"))
        )
    dirty = erlang.schedulers(_value(group.settings, "+SDcpu") or "")[1]
    if dirty is not None:
        checks.append(
            Check(
                g,
                "erlang",
                "dirty_cpu_schedulers_online",
                dirty,
                answer.get("dirty_cpu_schedulers_online"),
            )
        )
    bind = _value(group.settings, "+sbt")
    if bind is not None:
        checks += _binding_checks(plan, g, bind, answer)
    return checks


def _binding_checks(plan: PinPlan, g: int, bind: str, answer: Mapping[str, Any]) -> list[Check]:
    bindings: list[int | None] = answer.get("scheduler_bindings") or []
    online = answer.get("schedulers_online")
    active = bindings[:online] if isinstance(online, int) else bindings
    if bind == "u":
        return [Check(g, "erlang", "bound schedulers", 0, sum(b is not None for b in active))]
    checks = [Check(g, "erlang", "unbound online schedulers", 0, active.count(None))]
    bound = sorted({b for b in active if b is not None})
    if plan.pinned:
        outside = sorted(set(bound) - set(plan.cpus))
        checks.append(Check(g, "erlang", "schedulers bound outside the owned CPUs", [], outside))
    return checks


def go_checks(plan: PinPlan, group: Group, answer: Mapping[str, Any]) -> list[Check]:
    g, checks = group.index, []
    wanted = _int(_value(group.settings, "GOMAXPROCS"))
    if wanted is not None:
        checks.append(Check(g, "go", "GOMAXPROCS(0)", wanted, answer.get("gomaxprocs")))
    if plan.pinned:
        checks.append(Check(g, "go", "NumCPU()", len(plan.cpus), answer.get("numcpu")))
    return checks


def jvm_checks(plan: PinPlan, group: Group, answer: Mapping[str, Any]) -> list[Check]:
    wanted = _int(_value(group.settings, JVM_FLAG))
    if wanted is None:
        return []
    return [
        Check(
            group.index, "jvm", "availableProcessors()", wanted, answer.get("available_processors")
        )
    ]


CHECKS: dict[str, Callable[[PinPlan, Group, Mapping[str, Any]], list[Check]]] = {
    "os": os_checks,
    "erlang": erlang_checks,
    "go": go_checks,
    "jvm": jvm_checks,
}


def prove(plan: PinPlan, results: Mapping[str, ProbeResult]) -> Proof:
    """Every group's probes against its applied settings."""
    proof = Proof()
    for group in plan.groups:
        for kind, sid in group.probes.items():
            result = results.get(sid)
            if result is None or not result.ok:
                proof.unproven[sid] = (result.error or "failed") if result else "did not run"
                continue
            try:
                answer = probes.parse(kind, result.output)
            except ValueError as exc:
                proof.unproven[sid] = str(exc)
                continue
            proof.answers[sid] = answer
            proof.checks += CHECKS[kind](plan, group, answer)
    return proof
