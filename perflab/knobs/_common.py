"""Pieces several knobs share: which CPUs a task means, kernel CPU masks, one-file sysctls.

Not a knob itself (the registry never names it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from perflab.facts.cpulist import CpuListError, format_cpulist, parse_cpulist, parse_cpumask
from perflab.knobs.base import Facts, FileKnob, HostContext

CPU_DIR = "/sys/devices/system/cpu"

#: the ``cpus`` argument of per-CPU knobs (same shape as a job's ``pin.cpus``)
CPUS_ARG: dict[str, Any] = {
    "oneOf": [
        {"const": "reserved"},
        {"const": "all"},
        {"type": "string", "pattern": "^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"},
        {"type": "integer", "minimum": 0},
    ],
    "x-expected": '"reserved", "all" or a CPU list like "2-5,8"',
}

#: the ``cpus`` argument of knobs that move work *to* CPUs (default: housekeeping)
HOUSEKEEPING_ARG: dict[str, Any] = {
    "oneOf": [
        {"const": "housekeeping"},
        {"type": "string", "pattern": "^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"},
        {"type": "integer", "minimum": 0},
    ],
    "x-expected": '"housekeeping" or a CPU list like "0-1"',
}

NO_CPUFREQ = "no cpufreq on this host (a VM?)"


def cpufreq_file(cpu: int, name: str) -> str:
    """``/sys/devices/system/cpu/cpuN/cpufreq/NAME``."""
    return f"{CPU_DIR}/cpu{cpu}/cpufreq/{name}"


def select_cpus(choice: Any, ctx: HostContext) -> tuple[list[int], str | None]:
    """The CPUs a ``cpus`` argument means on this host, or a problem to report."""
    if choice is None or choice == "all":
        return sorted(ctx.online), None
    if choice == "reserved":
        return sorted(ctx.reserved), None
    if choice == "housekeeping":
        return sorted(ctx.housekeeping), None
    try:
        cpus = parse_cpulist(choice)
    except CpuListError as exc:
        return [], str(exc)
    outside = sorted(set(cpus) - set(ctx.online))
    if outside:
        return [], (
            f"CPU {format_cpulist(outside)} is not online on this host "
            f"(online: {format_cpulist(ctx.online)})"
        )
    return cpus, None


def kernel_cpumask(cpus: Sequence[int]) -> str:
    """A hex CPU mask as the kernel parses it: 32-bit groups separated by commas.

    ``[0, 1]`` -> ``"3"``; CPUs 0-35 -> ``"f,ffffffff"`` (one long hex word with more
    than 8 digits is refused by the kernel's bitmap parser).
    """
    value = 0
    for cpu in cpus:
        value |= 1 << cpu
    groups = []
    while True:
        groups.append(value & 0xFFFFFFFF)
        value >>= 32
        if not value:
            break
    head, *rest = reversed(groups)
    return ",".join([f"{head:x}", *(f"{g:08x}" for g in rest)])


def same_cpulist(text: str | None, cpus: Sequence[int]) -> bool:
    """Whether a CPU list file ("0-1") names exactly ``cpus`` (unparsable: no)."""
    if text is None:
        return False
    try:
        return parse_cpulist(text) == sorted(cpus)
    except CpuListError:
        return False


def same_cpumask(text: str | None, cpus: Sequence[int]) -> bool:
    """Whether a hex mask file ("00000003") names exactly ``cpus`` (unparsable: no)."""
    if text is None:
        return False
    try:
        return parse_cpumask(text) == sorted(cpus)
    except ValueError:
        return False


def exists_glob(path: str) -> str:
    """A glob that matches exactly ``path``: the probe then says whether it exists.

    Reading a directory or a write-only file (``/proc/sys/vm/drop_caches``) answers
    null just like a missing file; a glob match does not depend on reading.
    """
    head, last = path[:-1], path[-1]
    return f"{head}[{last}]"


def exists(facts: Facts, path: str) -> bool:
    return bool(facts.matching(exists_glob(path)))


class ValueFileKnob(FileKnob):
    """One file set to the task's ``value`` (sysctls like swappiness or ASLR)."""

    path: ClassVar[str]
    reads_need_context = False  # one fixed file

    def targets(
        self, args: Mapping[str, Any], ctx: HostContext, facts: Facts | None
    ) -> dict[str, str]:
        return {self.path: str(args["value"])}
