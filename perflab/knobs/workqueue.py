"""Unbound kernel work away from the reserved CPUs: ``/sys/devices/virtual/workqueue/cpumask``.

Unbound workqueues (writeback, crypto, many drivers' deferred work) run on
any CPU in this mask; setting it to the housekeeping CPUs keeps that work off
the benchmark. Per-CPU (bound) work items cannot be moved and still run where
they were queued. Runs after the cpuset shield, whose housekeeping CPUs it follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.facts.cpulist import format_cpulist
from perflab.knobs._common import HOUSEKEEPING_ARG, kernel_cpumask, same_cpumask, select_cpus
from perflab.knobs.base import Facts, HostContext, Knob, Plan, write_change

CPUMASK = "/sys/devices/virtual/workqueue/cpumask"


class Workqueue(Knob):
    name = "workqueue"
    reads_need_context = False  # its files are the same on every host
    summary = "unbound workqueue cpumask moved to the housekeeping CPUs"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"cpus": {**HOUSEKEEPING_ARG, "default": "housekeeping"}},
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [CPUMASK]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        cpus, problem = select_cpus(args.get("cpus", "housekeeping"), ctx)
        if problem:
            return self.error(task, problem)
        if not cpus:
            return self.error(task, "no housekeeping CPU to move the workqueues to")
        current = facts.text(CPUMASK)
        if current is None:
            return self.skipped(
                task, f"no unbound workqueue cpumask in this kernel ({CPUMASK} does not exist)"
            )
        state = {"cpus": format_cpulist(cpus)}
        if same_cpumask(current, cpus):
            return self.ok(task, state)
        return self.changed(task, [write_change(CPUMASK, current, kernel_cpumask(cpus))], state)
