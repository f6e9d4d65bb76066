"""The lowest allowed clock of each CPU raised to the highest: ``scaling_min_freq``.

With ``scaling_min_freq = scaling_max_freq`` (or ``cpuinfo_max_freq`` when the
driver has no scaling maximum) the clock cannot drop between repetitions. The
value is in kHz and comes from the host, so one profile fits every machine.
Runs after the governor, whose policy limits the range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.facts.cpulist import format_cpulist
from perflab.knobs._common import CPUS_ARG, NO_CPUFREQ, cpufreq_file, select_cpus
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan, write_change

FILES = ("scaling_min_freq", "scaling_max_freq", "cpuinfo_max_freq")


class MinFrequency(Knob):
    name = "min_frequency"
    summary = "minimum CPU frequency raised to the maximum (scaling_min_freq = scaling_max_freq)"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"cpus": {**CPUS_ARG, "default": "all"}},
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        cpus, _ = select_cpus(args.get("cpus", "all"), ctx)
        return [cpufreq_file(cpu, name) for cpu in cpus for name in FILES]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        cpus, problem = select_cpus(args.get("cpus", "all"), ctx)
        if problem:
            return self.error(task, problem)
        if not cpus:
            return self.skipped(task, "no CPU selected (no reserved CPU on this host)")
        changes: list[Change] = []
        done: list[int] = []
        for cpu in cpus:
            path = cpufreq_file(cpu, "scaling_min_freq")
            old, top = facts.text(path), self._maximum(cpu, facts)
            if old is None or top is None:
                continue
            done.append(cpu)
            if old != top:
                changes.append(write_change(path, old, top))
        if not done:
            return self.skipped(
                task, f"{NO_CPUFREQ}: {cpufreq_file(cpus[0], 'scaling_min_freq')} does not exist"
            )
        missing = sorted(set(cpus) - set(done))
        notes = [f"CPU {format_cpulist(missing)} has no cpufreq; left as is"] if missing else []
        return self.changed(task, changes, {"min": "max", "cpus": format_cpulist(done)}, notes)

    @staticmethod
    def _maximum(cpu: int, facts: Facts) -> str | None:
        for name in ("scaling_max_freq", "cpuinfo_max_freq"):
            value = facts.text(cpufreq_file(cpu, name))
            if value is not None and value != "":
                return value
        return None
