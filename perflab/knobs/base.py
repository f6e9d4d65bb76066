"""What a knob is: read facts -> plan -> (apply, host-side) -> verify -> revert.

A knob is a small stateless class (pyinfra's operations, pyperf's tuning
knobs). It names the files it must read (:meth:`Knob.paths`), and from their
contents (:class:`Facts`), the task's arguments and the host context it
*plans* (:meth:`Knob.plan`, pure): either "ok" (already as desired), a list
of :class:`Change` (old -> new, with the host-side ops that make it), or
"skipped" with the reason (a VM has no cpufreq). Applying is generic
(``perflab/hostside/tune.py`` records each exact previous value in the host's
state file before touching it), verifying is planning again and finding
nothing to change, and reverting replays the state file backwards.

Values are compared with ``!=`` on normalized strings, never by truthiness:
``randomize_va_space = 0`` is a real value.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

#: ok: already as desired; change: ops to run, each recording its revert; skipped: not
#: possible on this host (reason); error: the task cannot be done (reason); action: ops that
#: run on every apply and leave no state to verify or revert (drop_caches): shown as "would
#: ..." in check mode, performed on apply, never counted as a change or as "not tuned".
Status = Literal["ok", "change", "skipped", "error", "action"]


@dataclass(frozen=True)
class Facts:
    """File contents read from the host in one probe round trip (None: unreadable/missing)."""

    files: Mapping[str, str | None] = field(default_factory=dict)
    globs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    processes: Sequence[Mapping[str, Any]] = field(default_factory=list)
    self_facts: Mapping[str, Any] = field(default_factory=dict)
    #: outputs of the commands knobs asked for ({"exit", "stdout", "stderr"} by name)
    commands: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def text(self, path: str) -> str | None:
        value = self.files.get(path)
        return None if value is None else value.strip()

    def matching(self, pattern: str) -> list[str]:
        """Paths a glob matched on the host (sorted), or paths read that match it."""
        if pattern in self.globs:
            return list(self.globs[pattern])
        return sorted(p for p in self.files if fnmatch.fnmatchcase(p, pattern))


@dataclass(frozen=True)
class HostContext:
    """What every knob may know about the host and the runner."""

    online: Sequence[int]
    housekeeping: Sequence[int]
    reserved: Sequence[int]
    is_root: bool = True
    vars: Mapping[str, Any] = field(default_factory=dict)
    prefix: str = "perflab"  # cgroup and file names carry it (tests make it unique)
    cgroup_version: str = "v1"
    protected: frozenset[int] = frozenset()
    host: str = "local"


@dataclass(frozen=True)
class Change:
    """One thing that will differ after applying: what, from, to, and how."""

    target: str
    old: str | None
    new: str
    ops: Sequence[Mapping[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "old": self.old, "new": self.new}


@dataclass
class Plan:
    """A knob's verdict on a host for one task."""

    knob: str
    task: str
    status: Status
    changes: list[Change] = field(default_factory=list)
    reason: str | None = None  # why skipped / error
    notes: list[str] = field(default_factory=list)  # advice, things that could not be done
    state: dict[str, Any] = field(default_factory=dict)  # desired state, for the fingerprint

    def to_dict(self) -> dict[str, Any]:
        return {
            "knob": self.knob,
            "task": self.task,
            "status": self.status,
            "changes": [c.to_dict() for c in self.changes],
            "reason": self.reason,
            "notes": list(self.notes),
            "state": self.state,
        }


class Knob:
    """Base class; subclasses set ``name``, ``summary``, ``args`` and implement two methods."""

    name: ClassVar[str]
    summary: ClassVar[str]
    #: JSON Schema of the task's arguments (a mapping), merged into schemas/playbook.schema.json
    args: ClassVar[dict[str, Any]] = {"type": "object"}
    needs_root: ClassVar[bool] = True
    #: the plan needs the host's process list (shield, freeze): one more 0.5 s sample
    needs_processes: ClassVar[bool] = False
    #: :meth:`paths` and :meth:`commands` use the host context (its CPUs, cgroup layout):
    #: false lets the engine read them in the same round trip as the context itself
    reads_need_context: ClassVar[bool] = True

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        """Files and globs to read on the host before planning."""
        raise NotImplementedError

    def commands(self, args: Mapping[str, Any], ctx: HostContext) -> dict[str, dict[str, Any]]:
        """Commands to run in the same probe round trip: ``{name: {"argv": [...]}}``.

        Names are global in one probe request, so a knob prefixes them with its own
        name ("services:irqbalance"); the answers arrive in :attr:`Facts.commands`.
        """
        return {}

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        """Compare the host with the desired state (pure)."""
        raise NotImplementedError

    # helpers for subclasses -------------------------------------------------------------

    def ok(self, task: str, state: dict[str, Any], notes: list[str] | None = None) -> Plan:
        return Plan(self.name, task, "ok", state=state, notes=notes or [])

    def skipped(self, task: str, reason: str) -> Plan:
        return Plan(self.name, task, "skipped", reason=reason, state={"skipped": reason})

    def error(self, task: str, reason: str) -> Plan:
        return Plan(self.name, task, "error", reason=reason)

    def changed(
        self,
        task: str,
        changes: list[Change],
        state: dict[str, Any],
        notes: list[str] | None = None,
    ) -> Plan:
        if not changes:
            return self.ok(task, state, notes)
        return Plan(self.name, task, "change", changes=changes, state=state, notes=notes or [])


def write_change(
    path: str, old: str | None, new: str, *, must: bool = True, bracket: bool = False
) -> Change:
    """A change that writes ``new`` to ``path`` (the host records the exact old value)."""
    op: dict[str, Any] = {"op": "write", "path": path, "value": new, "must": must}
    if bracket:
        op["bracket"] = True
    return Change(target=path, old=old, new=new, ops=[op])


def selected_word(text: str | None) -> str | None:
    """``"always [madvise] never"`` -> ``"madvise"``; plain text unchanged."""
    if text is None:
        return None
    if "[" in text and "]" in text:
        return text[text.index("[") + 1 : text.index("]")]
    return text.strip()


class FileKnob(Knob):
    """A knob that sets one or more files to a value each (sysctls and friends).

    Subclasses implement :meth:`targets`: ``{path: desired value}``; a path that
    does not exist on the host makes the whole knob "skipped" with ``missing_reason``.
    """

    missing_reason: ClassVar[str] = "not available on this host"
    bracket: ClassVar[bool] = False  # files that show choices as "a [b] c"

    def targets(
        self, args: Mapping[str, Any], ctx: HostContext, facts: Facts | None
    ) -> dict[str, str]:
        raise NotImplementedError

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return list(self.targets(args, ctx, None))

    def current(self, path: str, facts: Facts) -> str | None:
        text = facts.text(path)
        return selected_word(text) if self.bracket else text

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        wanted = self.targets(args, ctx, facts)
        if not wanted:
            return self.skipped(task, self.missing_reason)
        missing = [p for p in wanted if facts.files.get(p) is None]
        if missing:
            return self.skipped(task, f"{self.missing_reason} ({missing[0]} does not exist)")
        changes = []
        for path, value in wanted.items():
            old = self.current(path, facts)
            if old != value:
                changes.append(write_change(path, old, value, bracket=self.bracket))
        return self.changed(task, changes, dict(sorted(wanted.items())))
