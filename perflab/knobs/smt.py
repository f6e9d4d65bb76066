"""Simultaneous multithreading (Hyper-Threading): ``/sys/devices/system/cpu/smt/control``.

With SMT off, a benchmark thread does not share its core's caches and
execution units with whatever runs on the sibling. Writing ``off`` takes the
siblings offline (the set of online CPUs shrinks, so knobs planned per CPU
must be planned after it); restore writes ``on`` and they come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.knobs._common import CPU_DIR
from perflab.knobs.base import Facts, HostContext, Knob, Plan, write_change

CONTROL = f"{CPU_DIR}/smt/control"

#: values of smt/control that cannot be changed at run time, and what they mean
FIXED = {
    "notsupported": "the CPU has no SMT (smt/control says notsupported)",
    "notimplemented": "this architecture cannot switch SMT at run time "
    "(smt/control says notimplemented)",
    "forceoff": "SMT is forced off on the kernel command line (nosmt=force); "
    "it cannot be turned on without a reboot",
}


class Smt(Knob):
    name = "smt"
    reads_need_context = False  # its files are the same on every host
    summary = "SMT (Hyper-Threading) on or off (smt/control)"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": {
                "type": "boolean",
                "default": False,
                "x-expected": "true or false (default false: SMT off)",
            },
        },
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [CONTROL]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        enabled = bool(args.get("enabled", False))
        want = "on" if enabled else "off"
        state = {"enabled": enabled}
        current = facts.text(CONTROL)
        if current is None:
            return self.skipped(
                task, "no SMT control in this kernel (no /sys/devices/system/cpu/smt/control)"
            )
        if current == "forceoff" and not enabled:
            return self.ok(task, state, [FIXED["forceoff"]])
        if current in FIXED:
            return self.skipped(task, FIXED[current])
        if current != want:
            return self.changed(task, [write_change(CONTROL, current, want)], state)
        return self.ok(task, state)
