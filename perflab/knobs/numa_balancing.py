"""Automatic NUMA balancing: ``/proc/sys/kernel/numa_balancing``.

When on, the kernel unmaps pages now and then to see which node touches them
and migrates pages and tasks: page faults and migrations in the middle of a
measurement. 0 is off; 1 is on, 2 and 3 are the memory-tiering modes (also "on").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.knobs.base import Facts, HostContext, Knob, Plan, write_change

PATH = "/proc/sys/kernel/numa_balancing"


class NumaBalancing(Knob):
    name = "numa_balancing"
    reads_need_context = False  # its files are the same on every host
    summary = "automatic NUMA page and task migration (kernel.numa_balancing)"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": {
                "type": "boolean",
                "default": False,
                "x-expected": "true or false (default false: no NUMA balancing)",
            },
        },
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [PATH]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        enabled = bool(args.get("enabled", False))
        state = {"enabled": enabled}
        current = facts.text(PATH)
        if current is None:
            return self.skipped(
                task, "this kernel has no automatic NUMA balancing (CONFIG_NUMA_BALANCING off)"
            )
        if enabled:
            if current not in ("", "0"):  # 1, 2 and 3 all balance
                return self.ok(task, state)
            return self.changed(task, [write_change(PATH, current, "1")], state)
        if current != "0":
            return self.changed(task, [write_change(PATH, current, "0")], state)
        return self.ok(task, state)
