"""Frozen processes: noisy neighbours stopped for the run, thawed on restore.

Candidates match a name pattern (shell glob on the command name or the full
command line) or use more CPU than a threshold over the probe's sample.
They are frozen with the cgroup v1 freezer (``<prefix>-frozen``, each task's
original freezer cgroup recorded) or, where there is none, with SIGSTOP
(SIGCONT on restore, only if the pid still is the same process).

Never frozen, whatever the pattern (a process that freezes its own parent
hangs the person using it): PID 1, kernel threads, sshd and the init and
session managers, perflab itself with its ancestors (the shell, the CI runner,
the terminal that started it), and every process of the controller's session.
A process that started a session of its own (a daemon, a test's neighbour) is
independent of perflab and may be frozen when a pattern names it. A *named*
pattern that matches a protected process is refused before anything is
touched; a CPU-threshold match is skipped with a note.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from perflab.errors import InputError
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan

FREEZER = "/sys/fs/cgroup/freezer"

#: command names that are never frozen
NEVER = (
    "init",
    "systemd",
    "systemd-*",
    "sshd",
    "sshd-session",
    "dbus-daemon",
    "dbus-broker",
    "agetty",
    "login",
    "containerd*",
    "dockerd",
    "kubelet",
    "perflab*",
    "tmux*",
    "screen",
)


def protected_pids(processes: Sequence[Mapping[str, Any]], self_pid: int | None) -> frozenset[int]:
    """PIDs that must never be frozen or stopped on this host (pure)."""
    by_pid = {int(p["pid"]): p for p in processes}
    keep = {1}
    keep |= {pid for pid, p in by_pid.items() if p.get("kthread") or pid == 2 or p.get("ppid") == 2}
    keep |= {
        pid
        for pid, p in by_pid.items()
        if any(fnmatch.fnmatchcase(str(p.get("comm", "")), n) for n in NEVER)
    }
    if self_pid is not None:
        chain, pid = [], self_pid
        while pid in by_pid and pid not in chain:
            chain.append(pid)
            pid = int(by_pid[pid].get("ppid", 0))
        keep |= set(chain)
        controller = chain[1] if len(chain) > 1 else self_pid
        session = by_pid.get(controller, {}).get("session")
        if session:
            keep |= {pid for pid, p in by_pid.items() if p.get("session") == session}
    return frozenset(keep)


def _descendants(by_pid: Mapping[int, Mapping[str, Any]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, proc in by_pid.items():
        children.setdefault(int(proc.get("ppid", 0)), []).append(pid)
    out, todo = set(), [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _matches(proc: Mapping[str, Any], pattern: str) -> bool:
    return fnmatch.fnmatchcase(str(proc.get("comm", "")), pattern) or fnmatch.fnmatchcase(
        str(proc.get("cmdline", "")), pattern
    )


class Freeze(Knob):
    name = "freeze"
    summary = "Freeze noisy processes (by name or CPU use) for the run; thaw them on restore."
    needs_processes = True
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "patterns": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "x-expected": 'a list of name globs like ["stress-ng*", "*indexer*"]',
            },
            "cpu_above": {
                "type": "number",
                "exclusiveMinimum": 0,
                "x-expected": "a CPU percentage > 0 (of one CPU)",
            },
            "method": {"enum": ["auto", "cgroup", "signal"]},
            "only_pids": {
                "type": "array",
                "items": {"type": "integer", "minimum": 2},
                "x-expected": "a list of PIDs whose process trees may be frozen",
            },
        },
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [f"{FREEZER}/cgroup.procs", f"{FREEZER}/{ctx.prefix}-frozen/cgroup.procs"]

    def _scope(self, facts: Facts, only: Sequence[int]) -> set[int] | None:
        if not only:
            return None
        by_pid = {int(p["pid"]): p for p in facts.processes}
        scope: set[int] = set()
        for pid in only:
            scope |= {pid} | _descendants(by_pid, pid)
        return scope

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        patterns = list(args.get("patterns", []))
        threshold = args.get("cpu_above")
        if not patterns and threshold is None:
            raise InputError("expected patterns or cpu_above, got neither", field="freeze")
        group = f"{FREEZER}/{ctx.prefix}-frozen"
        frozen = set((facts.files.get(f"{group}/cgroup.procs") or "").split())
        scope = self._scope(facts, args.get("only_pids", []))
        notes: list[str] = []
        chosen: list[Mapping[str, Any]] = []
        for proc in facts.processes:
            pid = int(proc["pid"])
            if str(pid) in frozen or proc.get("state") == "T":
                continue
            if scope is not None and pid not in scope:
                continue
            named = [p for p in patterns if _matches(proc, p)]
            busy = threshold is not None and float(proc.get("cpu_percent", 0)) > threshold
            if not named and not busy:
                continue
            if pid in ctx.protected:
                if named:
                    raise InputError(
                        f'pattern "{named[0]}" would freeze protected process '
                        f"{proc.get('comm')} (pid {pid}) on {ctx.host}; "
                        "protected: PID 1, kernel threads, sshd, perflab and the "
                        "processes that started it",
                        field="freeze.patterns",
                    )
                notes.append(
                    f"not freezing protected {proc.get('comm')} (pid {pid}, "
                    f"{proc.get('cpu_percent')}% CPU)"
                )
                continue
            chosen.append(proc)
        return self._changes(task, args, facts, ctx, chosen, notes)

    def _changes(
        self,
        task: str,
        args: Mapping[str, Any],
        facts: Facts,
        ctx: HostContext,
        chosen: list[Mapping[str, Any]],
        notes: list[str],
    ) -> Plan:
        method = args.get("method", "auto")
        has_freezer = facts.files.get(f"{FREEZER}/cgroup.procs") is not None
        if method == "cgroup" and not has_freezer:
            return self.skipped(task, "no cgroup v1 freezer at /sys/fs/cgroup/freezer")
        if method == "auto":
            method = "cgroup" if has_freezer else "signal"
        state = {
            "patterns": sorted(args.get("patterns", [])),
            "cpu_above": args.get("cpu_above"),
            "method": method,
        }
        if not chosen:
            return self.ok(task, state, notes)
        pids = [int(p["pid"]) for p in chosen]
        names = ", ".join(f"{p.get('comm')}({p['pid']})" for p in chosen[:6])
        more = f" +{len(chosen) - 6} more" if len(chosen) > 6 else ""
        op = {
            "op": "freeze",
            "pids": pids,
            "method": method,
            "cgroup": f"{FREEZER}/{ctx.prefix}-frozen",
            "mount": FREEZER,
        }
        return self.changed(
            task, [Change("processes", "running", f"frozen: {names}{more}", [op])], state, notes
        )
