"""The ``pin`` section of a job or a profile, typed (pure).

``cpus`` stays where it always was (``Job.cpus``); this module types the rest:
which runtime's thread pools to size, the OS scheduling policy and nice value,
the real-time opt-in, extra Erlang flags and whether to prove what was applied.

A profile's ``pin`` gives defaults for every job run on a runner prepared with
it; a job's own keys win key by key (``merge``). ``policy`` and ``realtime``
travel together: the opt-in must stand in the same file as the real-time
policy it allows, so a job can be validated on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from perflab.errors import InputError, Location
from perflab.spec.units import seconds

RUNTIMES = ("auto", "erlang", "go", "jvm", "openmp", "tokio", "node", "none")
POLICIES = ("other", "fifo", "rr")
KEYS = ("runtime", "policy", "nice", "realtime", "erlang", "proof")

Locate = Callable[[str], Location | None]


@dataclass(frozen=True)
class Policy:
    """An OS scheduling policy: ``other`` (CFS) or a real-time ``fifo``/``rr`` with a priority."""

    name: str = "other"
    priority: int = 0

    @property
    def realtime(self) -> bool:
        return self.name in ("fifo", "rr")

    def __str__(self) -> str:
        return f"{self.name}:{self.priority}" if self.realtime else self.name


def parse_policy(text: str) -> Policy:
    """``"fifo:10"`` -> Policy("fifo", 10); ``"other"`` -> Policy()."""
    name, _, prio = text.partition(":")
    if name not in POLICIES or (name == "other") != (prio == ""):
        raise ValueError(f'expected "other", "fifo:PRIO" or "rr:PRIO", got "{text}"')
    if name == "other":
        return Policy()
    if not prio.isdigit() or not 1 <= int(prio) <= 99:
        raise ValueError(f'expected a priority from 1 to 99, got "{text}"')
    return Policy(name, int(prio))


@dataclass(frozen=True)
class PinSpec:
    """Scheduling settings; ``origin`` says which file set each key ("job" or "profile")."""

    runtime: str = "none"
    policy: Policy = field(default_factory=Policy)
    nice: int | None = None
    realtime_limit: float | None = None  # seconds (RLIMIT_RTTIME), only with the opt-in
    erlang: Mapping[str, str] = field(default_factory=dict)
    proof: bool | None = None  # None: prove when anything beyond the CPUs is asked for
    origin: Mapping[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Anything beyond ``cpus``: runs without it behave exactly as before pinning existed."""
        return (
            self.runtime != "none"
            or self.policy.realtime
            or self.nice is not None
            or bool(self.erlang)
            or bool(self.proof)
        )

    @property
    def wants_proof(self) -> bool:
        return self.active if self.proof is None else self.proof

    def source(self, key: str) -> str:
        return self.origin.get(key, "default")

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "policy": str(self.policy),
            "nice": self.nice,
            "realtime_limit_s": self.realtime_limit,
            "erlang": dict(self.erlang),
            "proof": self.wants_proof,
            "from": {k: self.source(k) for k in KEYS},
        }


def _no_location(_: str) -> Location | None:
    return None


def parse_pin(raw: Mapping[str, Any], origin: str, locate: Locate = _no_location) -> PinSpec:
    """Type a schema-valid ``pin`` mapping; the real-time opt-in is checked here."""
    try:
        policy = parse_policy(str(raw.get("policy", "other")))
    except ValueError as exc:
        raise InputError(str(exc), location=locate("pin.policy"), field="pin.policy") from None
    limit = _realtime_limit(raw, policy, locate)
    given = {k: origin for k in KEYS if k in raw}
    if "policy" in raw or "realtime" in raw:
        given.update(policy=origin, realtime=origin)
    return PinSpec(
        runtime=str(raw.get("runtime", "none")),
        policy=policy,
        nice=None if raw.get("nice") is None else int(raw["nice"]),
        realtime_limit=limit,
        erlang={k: str(v) for k, v in (raw.get("erlang") or {}).items()},
        proof=raw.get("proof"),
        origin=given,
    )


def _realtime_limit(raw: Mapping[str, Any], policy: Policy, locate: Locate) -> float | None:
    realtime = raw.get("realtime") or {}
    if not policy.realtime:
        return None
    if realtime.get("allow") is not True:
        raise InputError(
            f'a real-time policy ("{policy}") needs the opt-in '
            "pin.realtime: {allow: true, limit: DURATION}; the limit (RLIMIT_RTTIME) "
            "stops a runaway benchmark from locking the host",
            location=locate("pin.policy"),
            field="pin.policy",
        )
    try:
        limit = seconds(realtime.get("limit"))
    except ValueError as exc:
        raise InputError(
            str(exc), location=locate("pin.realtime.limit"), field="pin.realtime.limit"
        ) from None
    if limit is None or limit <= 0:
        raise InputError(
            "expected a runtime limit > 0 for a real-time policy, got none",
            location=locate("pin.realtime"),
            field="pin.realtime.limit",
        )
    return limit


def merge(job: PinSpec, profile: PinSpec | None) -> PinSpec:
    """The profile's keys as defaults, the job's keys over them (policy with its opt-in)."""
    if profile is None:
        return job
    out = profile
    if "runtime" in job.origin:
        out = replace(out, runtime=job.runtime)
    if "policy" in job.origin:
        out = replace(out, policy=job.policy, realtime_limit=job.realtime_limit)
    if "nice" in job.origin:
        out = replace(out, nice=job.nice)
    if "erlang" in job.origin:
        out = replace(out, erlang={**profile.erlang, **job.erlang})
    if "proof" in job.origin:
        out = replace(out, proof=job.proof)
    return replace(out, origin={**profile.origin, **job.origin})
