"""The cpuset shield: benchmark CPUs reserved, everything else on the housekeeping CPUs.

cgroup v1 (what ``cset shield`` tries to do, done so that it restores exactly):

- ``<prefix>-system`` gets the housekeeping CPUs and every movable task of the
  root cpuset (user tasks and the kernel threads that may move; per-CPU kernel
  threads refuse and are reported);
- ``<prefix>-shield`` gets the reserved CPUs, ``cpu_exclusive`` so nothing
  else can claim them; the root's ``sched_load_balance`` goes to 0 so the
  scheduler builds separate domains and never pulls a task across;
- benchmark processes enter ``<prefix>-shield/tasks`` (the harness writes its
  own pid there, so children follow).

cgroup v2: ``<prefix>-shield`` with the cpuset controller enabled,
``cpuset.cpus`` (and ``cpuset.cpus.exclusive`` where the kernel has it) set
to the reserved CPUs, and ``cpuset.cpus.partition = isolated``: the kernel
removes those CPUs from every other cgroup itself. Its read-back may say
``isolated invalid (reason)``; that reason is reported as the failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.errors import InputError
from perflab.facts.cpulist import CpuListError, format_cpulist, parse_cpulist
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan, write_change

CPULIST = r"^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"
V1 = "/sys/fs/cgroup/cpuset"
V2 = "/sys/fs/cgroup"


def shield_cpus(args: Mapping[str, Any], ctx: HostContext) -> tuple[list[int], list[int]]:
    """(reserved, housekeeping) for this host, refusing what cannot work."""
    raw = args.get("cpus", "reserved")
    try:
        cpus = list(ctx.reserved) if raw == "reserved" else parse_cpulist(raw)
        keep = (
            parse_cpulist(args["housekeeping"])
            if "housekeeping" in args
            else [c for c in ctx.housekeeping if c not in cpus]
        )
    except CpuListError as exc:
        raise InputError(str(exc), field="cpuset_shield.cpus") from None
    online = set(ctx.online)
    outside = sorted(set(cpus) - online)
    if outside:
        raise InputError(
            f"expected CPUs of {ctx.host} ({format_cpulist(ctx.online)}), got "
            f'"{format_cpulist(cpus)}" ({format_cpulist(outside)} not online)',
            field="cpuset_shield.cpus",
        )
    if not cpus:
        raise InputError(
            f"no CPU left to reserve on {ctx.host}: it has only "
            f"{format_cpulist(ctx.online)} and that does housekeeping",
            field="cpuset_shield.cpus",
        )
    keep = sorted(set(keep) & online - set(cpus))
    if not keep:
        raise InputError(
            f'expected at least one housekeeping CPU left, got "{raw}" reserving '
            f"every CPU of {ctx.host} ({format_cpulist(ctx.online)})",
            field="cpuset_shield.cpus",
        )
    return sorted(cpus), keep


class CpusetShield(Knob):
    name = "cpuset_shield"
    summary = "Reserve the benchmark CPUs; move every movable task to the housekeeping CPUs."
    needs_processes = True
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "cpus": {
                "anyOf": [
                    {"const": "reserved"},
                    {"type": "string", "pattern": CPULIST},
                    {"type": "integer", "minimum": 0},
                ],
                "x-expected": '"reserved" or a CPU list like "2-5,8"',
            },
            "housekeeping": {
                "type": "string",
                "pattern": CPULIST,
                "x-expected": 'a CPU list like "0,4"',
            },
            "move_kernel_threads": {"type": "boolean"},
        },
    }

    def _names(self, ctx: HostContext) -> tuple[str, str]:
        base = V1 if ctx.cgroup_version != "v2" else V2
        return f"{base}/{ctx.prefix}-shield", f"{base}/{ctx.prefix}-system"

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        shield, system = self._names(ctx)
        if ctx.cgroup_version == "v2":
            return [
                f"{V2}/cgroup.controllers",
                f"{V2}/cgroup.subtree_control",
                f"{shield}/cpuset.cpus",
                f"{shield}/cpuset.cpus.exclusive",
                f"{shield}/cpuset.cpus.partition",
                f"{shield}/cgroup.procs",
            ]
        files = ["cpuset.cpus", "cpuset.mems", "cpuset.cpu_exclusive", "tasks"]
        return [
            f"{V1}/cpuset.cpus",
            f"{V1}/cpuset.mems",
            f"{V1}/cpuset.sched_load_balance",
            f"{V1}/tasks",
            f"{V1}/*perflab*/cpuset.cpus",
        ] + [f"{d}/{f}" for d in (shield, system) for f in files]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        cpus, keep = shield_cpus(args, ctx)
        if ctx.cgroup_version == "v2":
            return self._plan_v2(task, facts, ctx, cpus)
        if facts.files.get(f"{V1}/cpuset.cpus") is None:
            return self.skipped(task, "no cpuset controller mounted at /sys/fs/cgroup/cpuset")
        _refuse_other_shields(facts, ctx, self._names(ctx))
        return self._plan_v1(task, args, facts, ctx, cpus, keep)

    # -- cgroup v1 ------------------------------------------------------------------------

    def _plan_v1(
        self,
        task: str,
        args: Mapping[str, Any],
        facts: Facts,
        ctx: HostContext,
        cpus: list[int],
        keep: list[int],
    ) -> Plan:
        shield, system = self._names(ctx)
        mems = facts.text(f"{V1}/cpuset.mems") or "0"
        changes: list[Change] = []
        for group, want in ((system, keep), (shield, cpus)):
            exists = facts.files.get(f"{group}/cpuset.cpus") is not None
            if not exists:
                changes.append(Change(group, None, "created", [{"op": "mkdir", "path": group}]))
            changes += _writes(
                facts,
                exists,
                {f"{group}/cpuset.mems": mems, f"{group}/cpuset.cpus": format_cpulist(want)},
            )
        changes += _writes(
            facts,
            facts.files.get(f"{shield}/cpuset.cpus") is not None,
            {f"{shield}/cpuset.cpu_exclusive": "1"},
        )
        changes += _writes(facts, True, {f"{V1}/cpuset.sched_load_balance": "0"})
        movable = _movable(facts, ctx, bool(args.get("move_kernel_threads", True)))
        if movable:
            changes.append(
                Change(
                    f"{V1}/tasks",
                    f"{len(movable)} tasks on all CPUs",
                    f"moved to {format_cpulist(keep)}",
                    [{"op": "move_tasks", "src": V1, "dst": system, "file": "tasks"}],
                )
            )
        return self.changed(task, changes, _state("v1", cpus, keep, f"{shield}/tasks"))

    # -- cgroup v2 ------------------------------------------------------------------------

    def _plan_v2(self, task: str, facts: Facts, ctx: HostContext, cpus: list[int]) -> Plan:
        shield, _ = self._names(ctx)
        controllers = (facts.text(f"{V2}/cgroup.controllers") or "").split()
        if "cpuset" not in controllers:
            return self.skipped(
                task,
                "the cgroup v2 tree has no cpuset controller (cgroup.controllers lacks cpuset)",
            )
        changes: list[Change] = []
        subtree = (facts.text(f"{V2}/cgroup.subtree_control") or "").split()
        if "cpuset" not in subtree:
            path = f"{V2}/cgroup.subtree_control"
            changes.append(
                Change(
                    path,
                    " ".join(subtree),
                    "+cpuset",
                    [{"op": "write", "path": path, "value": "+cpuset", "revert_value": "-cpuset"}],
                )
            )
        exists = facts.files.get(f"{shield}/cpuset.cpus") is not None
        if not exists:
            changes.append(Change(shield, None, "created", [{"op": "mkdir", "path": shield}]))
        want = format_cpulist(cpus)
        targets = {f"{shield}/cpuset.cpus": want}
        if not exists or facts.files.get(f"{shield}/cpuset.cpus.exclusive") is not None:
            targets[f"{shield}/cpuset.cpus.exclusive"] = want
        changes += _writes(facts, exists, targets)
        partition = facts.text(f"{shield}/cpuset.cpus.partition")
        notes = []
        if partition is not None and "invalid" in partition:
            # after an apply this stays a change: verification reports it with the reason
            notes.append(f"the kernel refused the isolated partition: {partition}")
        if partition != "isolated":
            path = f"{shield}/cpuset.cpus.partition"
            changes.append(
                Change(
                    path,
                    partition,
                    "isolated",
                    [{"op": "write", "path": path, "value": "isolated", "revert_value": "member"}],
                )
            )
        return self.changed(task, changes, _state("v2", cpus, [], f"{shield}/cgroup.procs"), notes)


def _refuse_other_shields(facts: Facts, ctx: HostContext, ours: tuple[str, str]) -> None:
    """Two shields on one host fight over the root cpuset: one perflab at a time."""
    groups = {path.rsplit("/", 1)[0] for path in facts.matching(f"{V1}/*perflab*/cpuset.cpus")}
    others = sorted(group.rsplit("/", 1)[-1] for group in groups - set(ours))
    if others:
        raise InputError(
            f"another perflab shield is active on {ctx.host} ({', '.join(others)}); "
            "restore it first (`perflab restore`) or wait for its run to end",
            field="cpuset_shield",
        )


def _writes(facts: Facts, exists: bool, targets: dict[str, str]) -> list[Change]:
    out = []
    for path, value in targets.items():
        old = facts.text(path) if exists else None
        if old != value:
            out.append(write_change(path, old, value))
    return out


def _movable(facts: Facts, ctx: HostContext, kernel_threads: bool) -> list[str]:
    """Tasks still in the root cpuset that a move could take (user threads; kthreads if asked)."""
    kthreads = {str(p["pid"]) for p in facts.processes if p.get("kthread")}
    tids = (facts.files.get(f"{V1}/tasks") or "").split()
    user = [t for t in tids if t not in kthreads]
    if user:
        return user if not kernel_threads else tids
    return []


def _state(version: str, cpus: list[int], keep: list[int], tasks: str) -> dict[str, Any]:
    return {
        "cgroup": version,
        "cpus": format_cpulist(cpus),
        "housekeeping": format_cpulist(keep),
        "tasks_file": tasks,
    }
