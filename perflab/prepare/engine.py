"""Prepare and restore a runner: facts -> plans -> apply -> verify -> fingerprint.

Round trips to the host, whatever the number of knobs: one probe for the host
context (CPUs, cgroup layout, processes) and for the files of every knob that
names them without that context (sysctls and the like), one more only for
knobs whose files depend on it (per-CPU files, cgroup paths), one apply
(host-side, recording previous values first), and the same reads to verify.
Every argument and precondition is checked before anything is touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from jsonschema import Draft202012Validator

from perflab.errors import HostError, InputError
from perflab.knobs import ORDER, get_knob
from perflab.knobs.base import Facts, HostContext, Knob, Plan
from perflab.prepare.host import BASE_FILES, RunnerHost, describe_context, host_context
from perflab.spec.playbook import Profile, Task, task_args
from perflab.spec.schema import expected
from perflab.spec.yamlpos import field_name

PROCESS_SAMPLE_S = 0.5
log = logging.getLogger("perflab")


@dataclass
class Session:
    """A profile planned against one host; enough to apply, verify and re-plan."""

    host: RunnerHost
    profile: Profile
    ctx: HostContext
    tasks: list[tuple[Task, Knob, dict[str, Any]]]
    plans: list[Plan]
    request: dict[str, Any]
    #: the first probe's whole answer (with the ``also`` files plan_profile was asked for)
    answer: dict[str, Any] = field(default_factory=dict)

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
    facts: dict[str, Any] | None = None  # platform facts gathered on the way (--facts)
    notes: list[str] = field(default_factory=list)  # a stale preparation restored first ...

    @property
    def changed(self) -> int:
        return sum(len(p.changes) for p in self.plans if not _is_action(p))

    def to_dict(self) -> dict[str, Any]:
        out = {
            "host": self.host,
            "profile": self.profile,
            "mode": self.mode,
            "context": self.context,
            "tasks": [p.to_dict() for p in self.plans],
            "changed": self.changed,
            "applied": self.applied,
            "failed": self.failed,
            "unmovable": self.unmovable,
            "problems": self.problems,
            "fingerprint": self.fingerprint,
            "shield": self.shield,
        }
        if self.facts is not None:
            out["facts"] = self.facts
        if self.notes:
            out["notes"] = self.notes
        return out


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
        raise InputError(
            f"expected {expected(error.schema)}, got {error.instance!r}",
            location=profile.location(task.where),
            field=field_name(where),
        )


def _probe(
    host: RunnerHost, files: list[str], *, processes: bool, commands: dict[str, Any] | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "root": host.root,
        "files": files,
        "self": True,
        "commands": commands or {},
    }
    if processes:
        request["processes"] = {"interval": PROCESS_SAMPLE_S, "top": 0}
    answer: dict[str, Any] = host.transport.call_hostside("probe", request)
    return answer


def _reads(
    tasks: list[tuple[Task, Knob, dict[str, Any]]], ctx: HostContext
) -> tuple[list[str], dict[str, Any]]:
    """The files (and globs) and commands the knobs of ``tasks`` read."""
    files = sorted({p for _, k, a in tasks for p in k.paths(a, ctx)})
    commands = {name: spec for _, k, a in tasks for name, spec in k.commands(a, ctx).items()}
    return files, commands


def _only(answer: dict[str, Any], files: list[str], commands: dict[str, Any]) -> dict[str, Any]:
    """The part of a probe answer about ``files`` and ``commands``: what knobs asked for."""
    globs = {p: answer.get("globs", {}).get(p, []) for p in files if p in answer.get("globs", {})}
    names = [p for p in files if p not in globs] + [n for found in globs.values() for n in found]
    got = answer.get("files", {})
    return {
        "files": {n: got.get(n) for n in names},
        "globs": globs,
        "commands": {n: answer.get("commands", {}).get(n) for n in commands},
    }


def _read_host(
    host: RunnerHost,
    tasks: list[tuple[Task, Knob, dict[str, Any]]],
    *,
    fixed: HostContext | None = None,
    also: Sequence[str] = (),
    also_commands: dict[str, Any] | None = None,
) -> tuple[HostContext, Facts, dict[str, Any], dict[str, Any]]:
    """Read the host context and every file the knobs need: one probe, or two.

    Knobs whose reads do not depend on the host context (``reads_need_context``
    false: sysctl-like files, services) are read in the same round trip as the
    context; the others once it is known. ``fixed``: keep its housekeeping and
    reserved CPUs (verifying after SMT took CPUs offline). ``also``: more files
    (and globs) for the first probe, whose whole answer is returned last.
    """
    need_procs = any(k.needs_processes for _, k, _ in tasks)
    early = [t for t in tasks if not t[1].reads_need_context]
    unknown = HostContext(
        online=[],
        housekeeping=[],
        reserved=[],
        vars=dict(host.vars),
        prefix=host.prefix,
        host=host.name,
    )  # these knobs do not look
    early_files, early_commands = _reads(early, unknown)
    base = _probe(
        host,
        sorted({*BASE_FILES, *early_files, *also}),
        processes=need_procs,
        commands={**(also_commands or {}), **early_commands},
    )
    ctx = host_context(host, base)
    if fixed is not None:  # SMT off takes CPUs offline: read them again, keep the split
        ctx = replace(ctx, reserved=fixed.reserved, housekeeping=fixed.housekeeping)
    files, commands = _reads(tasks, ctx)
    answer = _only(base, files, commands)
    late_files = [f for f in files if f not in early_files]
    late_commands = {n: c for n, c in commands.items() if n not in early_commands}
    if late_files or late_commands:
        late = _probe(host, late_files, processes=False, commands=late_commands)
        answer = _only(
            {
                "files": {**base.get("files", {}), **late.get("files", {})},
                "globs": {**base.get("globs", {}), **late.get("globs", {})},
                "commands": {**base.get("commands", {}), **late.get("commands", {})},
            },
            files,
            commands,
        )
    answer["self"] = base.get("self")
    facts = _facts(answer, base.get("processes") or [])
    return ctx, facts, {"files": files, "commands": commands}, base


def _facts(answer: dict[str, Any], processes: list[dict[str, Any]]) -> Facts:
    return Facts(
        files=answer.get("files", {}),
        globs=answer.get("globs", {}),
        processes=answer.get("processes") or processes,
        self_facts=answer.get("self") or {},
        commands=answer.get("commands") or {},
    )


def _plan_all(
    session_tasks: list[tuple[Task, Knob, dict[str, Any]]],
    facts: Facts,
    ctx: HostContext,
    profile: Profile,
) -> list[Plan]:
    plans = []
    for task, knob, args in session_tasks:
        try:
            plans.append(knob.plan(task.name, args, facts, ctx))
        except InputError as exc:
            raise InputError(
                exc.message,
                location=profile.location(task.where),
                field=field_name(task.where)
                if not exc.field
                else f"{field_name(task.where[:-1])}.{exc.field}",
            ) from None
    return plans


def plan_profile(
    host: RunnerHost,
    profile: Profile,
    *,
    also: Sequence[str] = (),
    also_commands: dict[str, Any] | None = None,
) -> Session:
    """Read the host and plan every task (changes nothing on the host). ``also``: files
    (``also_commands``: probe commands) to read in the same probe (``Session.answer`` has
    them: platform facts, say)."""
    tasks = []
    for task in _ordered(profile):  # arguments are checked before the host is read
        knob = get_knob(task.knob)
        args = task_args(profile, task, host.vars)
        _validate_args(profile, task, knob, args)
        tasks.append((task, knob, args))
    ctx, facts, request, answer = _read_host(host, tasks, also=also, also_commands=also_commands)
    plans = _plan_all(tasks, facts, ctx, profile)
    session = Session(host, profile, ctx, tasks, plans, request, answer)
    _check_errors(session)
    _check_root(session)
    return session


def _check_errors(session: Session) -> None:
    """A knob that cannot do what the task asks on this host refuses the whole profile."""
    for (task, _, _), plan in zip(session.tasks, session.plans, strict=True):
        if plan.status == "error":
            raise InputError(
                f"{plan.reason} (on {session.host.name})",
                location=session.profile.location(task.where),
                field=field_name(task.where),
            )


def _check_root(session: Session) -> None:
    if session.ctx.is_root:
        return
    for (_, knob, _), plan in zip(session.tasks, session.plans, strict=True):
        if plan.changes and knob.needs_root:
            raise InputError(
                f"knob {knob.name} needs root on {session.host.name} and perflab "
                "is not running as root there",
                field=f"tasks.{knob.name}",
                hint="connect as root, or set ansible_become: true for the runner "
                "(sudo; give its password with perflab_become_password_env "
                "or -K), or remove the task from the profile",
            )


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
    return PrepareReport(
        session.host.name,
        session.profile.name,
        "check",
        describe_context(session.ctx),
        session.plans,
    )


def apply(session: Session, owner: dict[str, Any] | None = None) -> PrepareReport:
    """Apply the planned changes, then read back and verify them. ``owner`` (kind "run":
    undone when that run ends; "prepare": kept until ``perflab restore``) is written to
    the host's state file, so a later command can tell a preparation whose run died."""
    from perflab.pinning.profile import resolved_pin

    host = session.host
    pin = resolved_pin(session.profile, session.ctx.vars)  # refused before any change
    report = PrepareReport(
        host.name, session.profile.name, "apply", describe_context(session.ctx), session.plans
    )
    changes = [
        {"knob": p.knob, "target": c.target, "ops": list(c.ops)}
        for p in session.plans
        for c in p.changes
    ]
    if changes:
        answer = _tune(host, "apply", profile=session.profile.name, changes=changes, owner=owner)
        report.applied, report.failed = answer["applied"], answer["failed"]
        report.unmovable = answer.get("unmovable", [])
        if answer.get("aborted"):
            undo = _tune(host, "restore")
            what = answer["aborted"]
            undone = "restored" if not undo.get("failed") else f"restore failed: {undo['failed']}"
            raise HostError(
                host.name,
                f"{what['knob']}: could not change {what['target']}: "
                f"{what['error']} (everything applied was {undone})",
            )
    verified = _verify(session)
    optional = {f["target"] for f in report.failed}  # must=false ops that failed (IRQs)
    for plan in verified:
        if _is_action(plan):
            continue
        stuck = [c for c in plan.changes if c.target not in optional]
        plan.notes += [
            f"could not change {c.target} (the kernel refused it)"
            for c in plan.changes
            if c.target in optional
        ]
        if stuck:
            report.problems.append(
                f"{plan.knob}: still differs: "
                + ", ".join(f"{c.target} is {c.old!r}, wanted {c.new!r}" for c in stuck)
            )
    report.fingerprint = fingerprint(verified)
    report.shield = _shield(verified)
    if changes:
        _tune(
            host,
            "annotate",
            notes={
                "fingerprint": report.fingerprint,
                "shield": report.shield,
                "profile": session.profile.name,
                "pin": pin,
            },
        )
    return report


def _verify(session: Session) -> list[Plan]:
    """Read everything back and plan again: what still differs was not applied."""
    ctx, facts, _, _ = _read_host(session.host, session.tasks, fixed=session.ctx)
    return _plan_all(session.tasks, facts, ctx, session.profile)


@dataclass
class RestoreReport:
    host: str
    nothing: bool
    restored: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    affinity_changed: list[dict[str, Any]]  # tasks whose affinity could not be set back
    gone: list[dict[str, Any]] = field(default_factory=list)  # files that disappeared
    affinity_restored: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "nothing_to_restore": self.nothing,
            "restored": self.restored,
            "failed": self.failed,
            "affinity_changed": self.affinity_changed,
            "affinity_restored": self.affinity_restored,
            "gone": self.gone,
            "notes": self.notes,
        }


def restore(host: RunnerHost) -> RestoreReport:
    """Put back every value recorded in the host's state file (idempotent)."""
    answer = _tune(host, "restore")
    return RestoreReport(
        host.name,
        bool(answer.get("nothing")),
        answer.get("restored", []),
        answer.get("failed", []),
        answer.get("affinity_changed", []),
        answer.get("gone", []),
        answer.get("affinity_restored", []),
    )


def stale_reason(state: dict[str, Any] | None) -> str | None:
    """Why a preparation found on a host (with its host lock in hand) was left behind,
    or None when it is a deliberate one (``perflab prepare``, complete)."""
    if not state:
        return None
    owner = state.get("owner") or {}
    who = (
        f"{owner.get('what') or 'perflab'} (pid {owner.get('pid', '?')} on "
        f"{owner.get('host', '?')})"
    )
    if owner.get("kind") == "run":
        return f"a preparation for {who} was left in place: that run's controller is gone"
    if not (state.get("complete") or state.get("notes")):
        return f"an unfinished preparation by {who} was left in place: it never completed"
    return None


def recover_stale(
    host: RunnerHost,
    state: dict[str, Any] | None,
) -> tuple[dict[str, Any] | None, str | None]:
    """The host's preparation ``state`` (as read under its host lock), after restoring it
    if it is stale; and what was done.

    Only call this holding the host lock: then a preparation owned by a run is one
    whose controller died (SIGKILL, lost link), since a live one would hold the lock."""
    reason = stale_reason(state)
    if reason is None:
        return state, None
    report = restore(host)
    if report.failed:
        raise HostError(
            host.name,
            f"{reason}, and restoring it failed: {report.failed[0].get('error')}",
            hint=f"look at {host.state_file}, then `perflab restore {host.name}`",
        )
    note = f"{host.name}: {reason}; restored it ({len(report.restored)} value(s)) first"
    log.warning(note)
    return None, note
