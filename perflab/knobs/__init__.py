"""Knobs: one module each, found by name (``perflab/knobs/<name>.py``).

``ORDER`` is the order knobs are applied in whatever order a profile lists
them, because some writes undo others:

- services and frozen processes first: stopping irqbalance before IRQ affinity
  is set keeps it from moving the IRQs back; freezing before the shield means
  the frozen noise is not scheduled while tasks move.
- governor before turbo: writing the governor resets intel_pstate's
  ``no_turbo`` (pyperf's lesson); turbo before min_frequency, so the minimum
  becomes the non-turbo maximum directly instead of being clamped later.
- the cpuset shield before IRQ and workqueue affinity, which follow its
  housekeeping CPUs.
- drop_caches last: it is an action, not a state, and should happen right
  before measuring.
"""

from __future__ import annotations

import importlib

from perflab.knobs.base import Knob

KNOBS: dict[str, str] = {
    "services": "perflab.knobs.services:Services",
    "freeze": "perflab.knobs.freeze:Freeze",
    "governor": "perflab.knobs.governor:Governor",
    "turbo": "perflab.knobs.turbo:Turbo",
    "min_frequency": "perflab.knobs.min_frequency:MinFrequency",
    "smt": "perflab.knobs.smt:Smt",
    "cpuset_shield": "perflab.knobs.cpuset_shield:CpusetShield",
    "irq_affinity": "perflab.knobs.irq_affinity:IrqAffinity",
    "workqueue": "perflab.knobs.workqueue:Workqueue",
    "aslr": "perflab.knobs.aslr:Aslr",
    "perf_sample_rate": "perflab.knobs.perf_sample_rate:PerfSampleRate",
    "transparent_hugepages": "perflab.knobs.transparent_hugepages:TransparentHugepages",
    "swappiness": "perflab.knobs.swappiness:Swappiness",
    "numa_balancing": "perflab.knobs.numa_balancing:NumaBalancing",
    "sysctl": "perflab.knobs.sysctl:Sysctl",
    "drop_caches": "perflab.knobs.drop_caches:DropCaches",
}

ORDER: list[str] = list(KNOBS)


def get_knob(name: str) -> Knob:
    """The knob called ``name`` (KeyError if there is none)."""
    module, attr = KNOBS[name].split(":")
    knob: Knob = getattr(importlib.import_module(module), attr)()
    return knob
