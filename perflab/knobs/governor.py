"""The cpufreq governor of each CPU: ``cpuN/cpufreq/scaling_governor``.

``performance`` keeps the clock at the top of the allowed range instead of
following the load, so a benchmark does not measure the ramp-up. Applies to
every cpufreq driver (intel_pstate, amd-pstate, acpi-cpufreq, cppc ...); the
value must be one the driver offers in ``scaling_available_governors``.
Goes before turbo: writing the governor resets intel_pstate's ``no_turbo``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.facts.cpulist import format_cpulist
from perflab.knobs._common import CPUS_ARG, NO_CPUFREQ, cpufreq_file, select_cpus
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan, write_change


class Governor(Knob):
    name = "governor"
    summary = "cpufreq scaling governor per CPU (performance: no frequency ramp-up)"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "governor": {
                "type": "string",
                "pattern": "^[a-z0-9_-]+$",
                "default": "performance",
                "x-expected": 'a governor name like "performance" or "schedutil"',
            },
            "cpus": {**CPUS_ARG, "default": "all"},
        },
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        cpus, _ = select_cpus(args.get("cpus", "all"), ctx)
        return [
            cpufreq_file(cpu, name)
            for cpu in cpus
            for name in ("scaling_governor", "scaling_available_governors")
        ]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        want = str(args.get("governor", "performance"))
        cpus, problem = select_cpus(args.get("cpus", "all"), ctx)
        if problem:
            return self.error(task, problem)
        if not cpus:
            return self.skipped(task, "no CPU selected (no reserved CPU on this host)")
        present = [c for c in cpus if facts.text(cpufreq_file(c, "scaling_governor")) is not None]
        if not present:
            return self.skipped(
                task, f"{NO_CPUFREQ}: {cpufreq_file(cpus[0], 'scaling_governor')} does not exist"
            )
        for cpu in present:
            offered = facts.text(cpufreq_file(cpu, "scaling_available_governors"))
            if offered is not None and want not in offered.split():
                return self.error(
                    task,
                    f'governor "{want}" is not available on CPU {cpu} '
                    f"(the driver offers: {offered})",
                )
        changes: list[Change] = []
        for cpu in present:
            path = cpufreq_file(cpu, "scaling_governor")
            old = facts.text(path)
            if old != want:
                changes.append(write_change(path, old, want))
        notes = self._missing_note(cpus, present)
        state = {"governor": want, "cpus": format_cpulist(present)}
        return self.changed(task, changes, state, notes)

    @staticmethod
    def _missing_note(cpus: list[int], present: list[int]) -> list[str]:
        missing = sorted(set(cpus) - set(present))
        if not missing:
            return []
        return [f"CPU {format_cpulist(missing)} has no cpufreq; left as is"]
