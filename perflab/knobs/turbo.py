"""Turbo / boost: clocks above the base frequency that depend on temperature and load.

Turned off, the clock no longer varies with how hot the package is or how many
cores are busy. Three switches exist, by driver; every one present is set:

- intel_pstate: ``/sys/devices/system/cpu/intel_pstate/no_turbo`` (1 = turbo off)
- acpi-cpufreq, amd-pstate (passive/guided), cppc: ``cpufreq/boost`` (0 = off)
- amd-pstate (6.11+): ``cpufreq/policyN/boost`` per policy (0 = off)

The per-policy files are written before the global one, so that restoring in
reverse order sets the global switch first and then puts back each policy's
own value. Goes after the governor: writing the governor resets ``no_turbo``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.knobs._common import CPU_DIR
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan, write_change

NO_TURBO = f"{CPU_DIR}/intel_pstate/no_turbo"
BOOST = f"{CPU_DIR}/cpufreq/boost"
POLICY_BOOST = f"{CPU_DIR}/cpufreq/policy*/boost"


def _policy_number(path: str) -> int:
    found = re.search(r"/policy(\d+)/", path)
    return int(found.group(1)) if found else -1


class Turbo(Knob):
    name = "turbo"
    reads_need_context = False  # its files are the same on every host
    summary = "turbo boost on or off (intel_pstate no_turbo, cpufreq boost, amd-pstate boost)"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": {
                "type": "boolean",
                "default": False,
                "x-expected": "true or false (default false: turbo off)",
            },
        },
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [POLICY_BOOST, BOOST, NO_TURBO]

    def targets(self, enabled: bool, facts: Facts) -> list[tuple[str, str]]:
        """(path, wanted value) of every switch present, in the order they are written."""
        boost = "1" if enabled else "0"
        policies = sorted(facts.matching(POLICY_BOOST), key=_policy_number)
        found = [(path, boost) for path in policies]
        found.append((BOOST, boost))
        found.append((NO_TURBO, "0" if enabled else "1"))
        return [(path, value) for path, value in found if facts.text(path) is not None]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        enabled = bool(args.get("enabled", False))
        targets = self.targets(enabled, facts)
        if not targets:
            return self.skipped(
                task,
                "no turbo/boost switch on this host (no intel_pstate "
                "no_turbo, no cpufreq boost file: a VM, or no cpufreq)",
            )
        changes: list[Change] = []
        for path, value in targets:
            old = facts.text(path)
            if old != value:
                changes.append(write_change(path, old, value))
        return self.changed(task, changes, {"enabled": enabled})
