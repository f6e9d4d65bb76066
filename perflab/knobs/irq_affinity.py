"""Interrupts away from the reserved CPUs: ``/proc/irq/*/smp_affinity_list``.

Every IRQ's affinity is set to the housekeeping CPUs, and so is
``/proc/irq/default_smp_affinity`` (a hex mask), which IRQs registered later
start with. irqbalance would move them back: stop it with the services knob
(services are applied first).

Some IRQs cannot be moved: per-CPU interrupts and the kernel-managed queues of
NVMe and multiqueue NICs answer EIO. Those writes are best effort
(``must: false``): the host-side helper reports them as failed and carries on,
and they are notes, not errors. Runs after the cpuset shield, whose
housekeeping CPUs it follows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.facts.cpulist import format_cpulist
from perflab.knobs._common import (
    HOUSEKEEPING_ARG,
    kernel_cpumask,
    same_cpulist,
    same_cpumask,
    select_cpus,
)
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan, write_change

IRQS = "/proc/irq/*/smp_affinity_list"
DEFAULT = "/proc/irq/default_smp_affinity"
UNMOVABLE_NOTE = (
    "IRQs the kernel cannot move (EIO: per-CPU or kernel-managed "
    "interrupts) stay where they are; applying lists them as failed"
)


def _irq_number(path: str) -> int:
    found = re.search(r"/proc/irq/(\d+)/", path)
    return int(found.group(1)) if found else -1


class IrqAffinity(Knob):
    name = "irq_affinity"
    reads_need_context = False  # its files are the same on every host
    summary = "IRQ affinity and default_smp_affinity moved to the housekeeping CPUs"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"cpus": {**HOUSEKEEPING_ARG, "default": "housekeeping"}},
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [DEFAULT, IRQS]

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        cpus, problem = select_cpus(args.get("cpus", "housekeeping"), ctx)
        if problem:
            return self.error(task, problem)
        if not cpus:
            return self.error(task, "no housekeeping CPU to move the IRQs to")
        default = facts.text(DEFAULT)
        if default is None:
            return self.skipped(
                task,
                f"no IRQ affinity control on this host ({DEFAULT} does not exist: a container?)",
            )
        changes: list[Change] = []
        if not same_cpumask(default, cpus):
            changes.append(write_change(DEFAULT, default, kernel_cpumask(cpus)))
        wanted = format_cpulist(cpus)
        for path in sorted(facts.matching(IRQS), key=_irq_number):
            current = facts.text(path)
            if current is not None and not same_cpulist(current, cpus):
                changes.append(write_change(path, current, wanted, must=False))
        best_effort = any(c.target != DEFAULT for c in changes)
        return self.changed(
            task, changes, {"cpus": wanted}, [UNMOVABLE_NOTE] if best_effort else []
        )
