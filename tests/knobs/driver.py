"""A small prepare/restore driver for knob tests (the lead's engine replaces it).

It does what the engine will do, through the real host-side helpers and a
transport: probe the files (and commands) a knob names, plan, send the plan's
ops to ``tune`` (apply), and ``tune`` restore from the state file.
:meth:`Driver.cycle` runs the whole story a knob must survive:

    probe -> plan (changes) -> apply -> probe -> plan (ok) -> apply again (nothing
    to do) -> restore
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perflab.knobs import get_knob
from perflab.knobs.base import Facts, HostContext, Knob, Plan
from perflab.transport.base import Transport


def facts_from_probe(answer: Mapping[str, Any]) -> Facts:
    return Facts(
        files=answer.get("files", {}),
        globs=answer.get("globs", {}),
        commands=answer.get("commands", {}),
    )


@dataclass
class Cycle:
    first: Plan
    applied: dict[str, Any]
    second: Plan
    again: dict[str, Any]
    restored: dict[str, Any]


class Driver:
    """Plan, apply and restore knobs on one host (``root``: a fake tree's prefix)."""

    def __init__(
        self,
        transport: Transport,
        *,
        state_file: Path,
        root: str = "/",
        profile: str = "perflab-test",
    ) -> None:
        self.transport = transport
        self.state_file = state_file
        self.root = root
        self.profile = profile

    def facts(self, knob: Knob, args: Mapping[str, Any], ctx: HostContext) -> Facts:
        request = {
            "root": self.root,
            "files": knob.paths(args, ctx),
            "commands": knob.commands(args, ctx),
        }
        return facts_from_probe(self.transport.call_hostside("probe", request))

    def plan(
        self, name: str, args: Mapping[str, Any], ctx: HostContext, task: str = "test task"
    ) -> Plan:
        knob = get_knob(name)
        return knob.plan(task, args, self.facts(knob, args, ctx), ctx)

    def tune(self, action: str, changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        request = {
            "action": action,
            "state_file": str(self.state_file),
            "root": self.root,
            "profile": self.profile,
            "changes": changes or [],
        }
        answer: dict[str, Any] = self.transport.call_hostside("tune", request)
        return answer

    def apply(self, *plans: Plan) -> dict[str, Any]:
        """Run the ops of every plan that has some ("change" and "action")."""
        changes = [
            {"knob": p.knob, "target": c.target, "ops": [dict(op) for op in c.ops]}
            for p in plans
            if p.status in ("change", "action")
            for c in p.changes
        ]
        return self.tune("apply", changes)

    def restore(self) -> dict[str, Any]:
        return self.tune("restore")

    def cycle(
        self,
        name: str,
        args: Mapping[str, Any],
        ctx: HostContext,
        settle: Callable[[], None] = lambda: None,
    ) -> Cycle:
        """Plan, apply, plan again, apply again, restore; ``settle`` plays the kernel."""
        first = self.plan(name, args, ctx)
        applied = self.apply(first)
        settle()
        second = self.plan(name, args, ctx)
        again = self.apply(second)
        settle()
        restored = self.restore()
        settle()
        return Cycle(first, applied, second, again, restored)


def full_cycle(
    driver: Driver, fake: Any, name: str, args: Mapping[str, Any], ctx: HostContext
) -> Cycle:
    """:meth:`Driver.cycle` on a fake tree, asserting the story a knob must tell.

    Changes first, none after applying (a second apply does nothing), and after
    restore every file, directory and link is byte for byte what it was.
    """
    before = fake.snapshot()
    cycle = driver.cycle(name, args, ctx, settle=fake.settle)
    assert cycle.first.status == "change", (cycle.first.status, cycle.first.reason)
    assert cycle.applied["failed"] == [] and "aborted" not in cycle.applied, cycle.applied
    assert cycle.second.status == "ok", [c.to_dict() for c in cycle.second.changes]
    assert cycle.again["applied"] == []
    assert cycle.restored["failed"] == [], cycle.restored
    assert not driver.state_file.exists()
    assert fake.snapshot() == before
    return cycle
