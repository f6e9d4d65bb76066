"""Which CPUs a benchmark runs on (pure).

By default CPU 0 and its SMT siblings do housekeeping and every other online
CPU is reserved for benchmarks (DESIGN.md). A runner may say otherwise
(``perflab_housekeeping_cpus``). A job asks for ``reserved`` (the default),
``all`` (no pinning), or an explicit list, which must lie on the host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perflab.errors import InputError, Location
from perflab.facts.cpulist import format_cpulist, parse_cpulist

if TYPE_CHECKING:  # the job spec pulls in jsonschema: not needed to talk to runners
    from perflab.spec.job import CpuChoice


@dataclass(frozen=True)
class Placement:
    cpus: list[int] | None  # None: not pinned
    housekeeping: list[int]
    reserved: list[int]
    note: str | None = None  # why the placement is not what the job asked


def housekeeping_cpus(
    online: Sequence[int], siblings: Mapping[int, str], configured: str | None = None
) -> list[int]:
    """CPU 0 plus its SMT siblings, unless the runner configures its own list."""
    if configured:
        return parse_cpulist(configured)
    if not online:
        return []
    first = min(online)
    return sorted(set(parse_cpulist(siblings[first])) if first in siblings else {first})


def resolve_placement(
    choice: CpuChoice,
    online: Sequence[int],
    housekeeping: Sequence[int],
    *,
    where: Location | None = None,
) -> Placement:
    keep = sorted(set(housekeeping) & set(online))
    reserved = sorted(set(online) - set(keep))
    if choice == "all":
        return Placement(None, keep, reserved)
    if choice == "reserved":
        if not reserved:
            return Placement(
                None, keep, reserved, note="no CPU is left after housekeeping; running unpinned"
            )
        return Placement(reserved, keep, reserved)
    outside = sorted(set(choice) - set(online))
    if outside:
        raise InputError(
            f"expected CPUs of this host ({format_cpulist(online)}), got "
            f'"{format_cpulist(choice)}" ({format_cpulist(outside)} not online)',
            location=where,
            field="pin.cpus",
        )
    return Placement(sorted(choice), keep, reserved)
