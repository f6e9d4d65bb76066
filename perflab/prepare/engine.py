"""Prepare and restore a runner: facts -> plans -> apply -> verify -> fingerprint.

Round trips to the host, whatever the number of knobs: one probe for the host
context (CPUs, cgroup layout, processes), one for every knob's files, one
apply (host-side, recording previous values first), one probe to verify.
Every argument and precondition is checked before anything is touched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from jsonschema import Draft202012Validator

from perflab.errors import HostError, InputError
from perflab.knobs import ORDER, get_knob
from perflab.knobs.base import Facts, HostContext, Knob, Plan
from perflab.prepare.host import BASE_FILES, RunnerHost, describe_context, host_context
from perflab.prepare.playbook import Profile, Task, task_args
from perflab.spec.schema import expected
from perflab.spec.yamlpos import field_name

PROCESS_SAMPLE_S = 0.5


@dataclass
class Session:
    """A profile planned against one host; enough to apply, verify and re-plan."""

    host: RunnerHost
    profile: Profile
    ctx: HostContext
    tasks: list[tuple[Task, Knob, dict[str, Any]]]
    plans: list[Plan]
    request: dict[str, Any]

    @property
    def changes(self) -> int:
        return sum(len(p.changes) for p in self.plans if not _is_action(p))


@dataclass
class PrepareReport:
    host: str
    profile: str
    mode: str  # check | apply
    context: dict[str, Any]
    plans: list[Plan]
    applied: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    unmovable: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # verification failures
    fingerprint: str | None = None
    shield: dict[str, Any] | None = None

    @property
    def changed(self) -> int:
        return sum(len(p.changes) for p in self.plans if not _is_action(p))

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "profile": self.profile, "mode": self.mode,
                "context": self.context, "tasks": [p.to_dict() for p in self.plans],
                "changed": self.changed, "applied": self.applied, "failed": self.failed,
                "unmovable": self.unmovable, "problems": self.problems,
                "fingerprint": self.fingerprint, "shield": self.shield}


def _is_action(plan: Plan) -> bool:
    """Actions (drop_caches) run on every apply and are never a change of state."""
    return plan.status == "action"


def _ordered(profile: Profile) -> list[Task]:
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(profile.tasks, key=lambda t: rank.get(t.knob, len(rank)))


def _validate_args(profile: Profile, task: Task, knob: Knob, args: dict[str, Any]) -> None:
    validator = Draft202012Validator(knob.args)
    for error in validator.iter_errors(args):
        where = (*task.where, *error.absolute_path)
        raise InputError(f"expected {expected(error.schema)}, got {error.instance!r}",
                         location=profile.location(task.where), field=field_name(where))


def _probe(host: RunnerHost, files: list[str], *, processes: bool,
           commands: dict[str, Any] | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"root": host.root, "files": files, "self": True,
                               "commands": commands or {}}
    if processes:
        request["processes"] = {"interval": PROCESS_SAMPLE_S, "top": 0}
    answer: dict[str, Any] = host.transport.call_hostside("probe", request)
    return answer


def _facts(answer: dict[str, Any], processes: list[dict[str, Any]]) -> Facts:
    return Facts(files=answer.get("files", {}), globs=answer.get("globs", {}),
                 processes=answer.get("processes") or processes,
                 self_facts=answer.get("self") or {}, commands=answer.get("commands") or {})


def _plan_all(session_tasks: list[tuple[Task, Knob, dict[str, Any]]], facts: Facts,
              ctx: HostContext, profile: Profile) -> list[Plan]:
    plans = []
    for task, knob, args in session_tasks:
        try:
            plans.append(knob.plan(task.name, args, facts, ctx))
        except InputError as exc:
            raise InputError(exc.message, location=profile.location(task.where),
                             field=field_name(task.where) if not exc.field else
                             f"{field_name(task.where[:-1])}.{exc.field}") from None
    return plans


def plan_profile(host: RunnerHost, profile: Profile) -> Session:
    """Read the host and plan every task (changes nothing on the host)."""
    chosen = [(t, get_knob(t.knob)) for t in _ordered(profile)]
    need_procs = any(k.needs_processes for _, k in chosen)
    base = _probe(host, BASE_FILES, processes=need_procs)
    ctx = host_context(host, base)
    tasks = []
    for task, knob in chosen:
        args = task_args(profile, task, ctx.vars)
        _validate_args(profile, task, knob, args)
        tasks.append((task, knob, args))
    files = sorted({p for _, k, a in tasks for p in k.paths(a, ctx)})
    commands = {name: spec for _, k, a in tasks
                for name, spec in (getattr(k, "commands", lambda *_: {})(a, ctx)).items()}
    request = {"files": files, "commands": commands}
    answer = _probe(host, files, processes=False, commands=commands)
    plans = _plan_all(tasks, _facts(answer, base.get("processes") or []), ctx, profile)
    session = Session(host, profile, ctx, tasks, plans, request)
    _check_errors(session)
    _check_root(session)
    return session


def _check_errors(session: Session) -> None:
    """A knob that cannot do what the task asks on this host refuses the whole profile."""
    for (task, _, _), plan in zip(session.tasks, session.plans, strict=True):
        if plan.status == "error":
            raise InputError(f"{plan.reason} (on {session.host.name})",
                             location=session.profile.location(task.where),
                             field=field_name(task.where))


def _check_root(session: Session) -> None:
    if session.ctx.is_root:
        return
    for (_, knob, _), plan in zip(session.tasks, session.plans, strict=True):
        if plan.changes and knob.needs_root:
            raise InputError(f"knob {knob.name} needs root on {session.host.name} and perflab "
                             "is not running as root there", field=f"tasks.{knob.name}",
                             hint="run as root, or remove the task from the profile")


def fingerprint(plans: list[Plan]) -> str:
    """A hash over the knob states read back after preparation."""
    data = [{"knob": p.knob, "state": p.state, "status": p.status} for p in plans]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _shield(plans: list[Plan]) -> dict[str, Any] | None:
    for plan in plans:
        if plan.knob == "cpuset_shield" and plan.status != "skipped":
            return dict(plan.state)
    return None


def _tune(host: RunnerHost, action: str, **extra: Any) -> dict[str, Any]:
    request = {"action": action, "state_file": host.state_file, "root": host.root, **extra}
    answer: dict[str, Any] = host.transport.call_hostside("tune", request, timeout=300)
    return answer


def check(session: Session) -> PrepareReport:
    return PrepareReport(session.host.name, session.profile.name, "check",
                         describe_context(session.ctx), session.plans)


def apply(session: Session) -> PrepareReport:
    """Apply the planned changes, then read back and verify them."""
    from perflab.pinning.profile import resolved_pin

    host = session.host
    pin = resolved_pin(session.profile, session.ctx.vars)  # refused before any change
    report = PrepareReport(host.name, session.profile.name, "apply",
                           describe_context(session.ctx), session.plans)
    changes = [{"knob": p.knob, "target": c.target, "ops": list(c.ops)}
               for p in session.plans for c in p.changes]
    if changes:
        answer = _tune(host, "apply", profile=session.profile.name, changes=changes)
        report.applied, report.failed = answer["applied"], answer["failed"]
        report.unmovable = answer.get("unmovable", [])
        if answer.get("aborted"):
            undo = _tune(host, "restore")
            what = answer["aborted"]
            undone = "restored" if not undo.get("failed") else f"restore failed: {undo['failed']}"
            raise HostError(host.name, f"{what['knob']}: could not change {what['target']}: "
                                       f"{what['error']} (everything applied was {undone})")
    verified = _verify(session)
    optional = {f["target"] for f in report.failed}  # must=false ops that failed (IRQs)
    for plan in verified:
        if _is_action(plan):
            continue
        stuck = [c for c in plan.changes if c.target not in optional]
        plan.notes += [f"could not change {c.target} (the kernel refused it)"
                       for c in plan.changes if c.target in optional]
        if stuck:
            report.problems.append(f"{plan.knob}: still differs: " + ", ".join(
                f"{c.target} is {c.old!r}, wanted {c.new!r}" for c in stuck))
    report.fingerprint = fingerprint(verified)
    report.shield = _shield(verified)
    if changes:
        _tune(host, "annotate", notes={"fingerprint": report.fingerprint, "shield": report.shield,
                                       "profile": session.profile.name, "pin": pin})
    return report


def _verify(session: Session) -> list[Plan]:
    """Read everything back and plan again: what still differs was not applied."""
    need_procs = any(k.needs_processes for _, k, _ in session.tasks)
    base = _probe(session.host, BASE_FILES, processes=need_procs)
    ctx = host_context(session.host, base)  # SMT off takes CPUs offline: read them again
    ctx = replace(ctx, reserved=session.ctx.reserved, housekeeping=session.ctx.housekeeping)
    answer = _probe(session.host, session.request["files"], processes=False,
                    commands=session.request["commands"])
    facts = _facts(answer, base.get("processes") or [])
    return _plan_all(session.tasks, facts, ctx, session.profile)


@dataclass
class RestoreReport:
    host: str
    nothing: bool
    restored: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    affinity_changed: list[dict[str, Any]]
    gone: list[dict[str, Any]] = field(default_factory=list)  # files that disappeared

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "nothing_to_restore": self.nothing, "restored": self.restored,
                "failed": self.failed, "affinity_changed": self.affinity_changed,
                "gone": self.gone}


def restore(host: RunnerHost) -> RestoreReport:
    """Put back every value recorded in the host's state file (idempotent)."""
    answer = _tune(host, "restore")
    return RestoreReport(host.name, bool(answer.get("nothing")), answer.get("restored", []),
                         answer.get("failed", []), answer.get("affinity_changed", []),
                         answer.get("gone", []))


def prepared_state(host: RunnerHost) -> dict[str, Any] | None:
    """The host's state file (what is applied, the fingerprint, the shield), if prepared."""
    state: dict[str, Any] | None = _tune(host, "status").get("state")
    return state
