"""CPU lists as the kernel writes them: "0-3,8,10-11"."""

from __future__ import annotations

from collections.abc import Iterable


class CpuListError(ValueError):
    """Text that is not a CPU list; the message says what was found."""


def parse_cpulist(text: str | int) -> list[int]:
    """``"0-2,5"`` -> ``[0, 1, 2, 5]``; an int is a single CPU; ``""`` is no CPU."""
    if isinstance(text, int):
        if text < 0:
            raise CpuListError(f"a CPU number cannot be negative, got {text}")
        return [text]
    cpus: set[int] = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()) or (_ and not high):
            raise CpuListError(f'expected a CPU list like "2-5,8", got "{text}"')
        first, last = int(low), int(high) if high else int(low)
        if last < first:
            raise CpuListError(f'range {part} runs backwards in "{text}"')
        cpus.update(range(first, last + 1))
    return sorted(cpus)


def format_cpulist(cpus: Iterable[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    ordered = sorted(set(cpus))
    runs: list[str] = []
    start = prev = None
    for cpu in ordered:
        if start is None:
            start = prev = cpu
        elif prev is not None and cpu == prev + 1:
            prev = cpu
        else:
            runs.append(f"{start}-{prev}" if start != prev else f"{start}")
            start = prev = cpu
    if start is not None:
        runs.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ",".join(runs)


def parse_cpumask(text: str) -> list[int]:
    """A hex mask as in ``/proc/irq/*/smp_affinity`` ("00000003" or "ff,ffffffff")."""
    value = int(text.strip().replace(",", "") or "0", 16)
    return [bit for bit in range(value.bit_length()) if value >> bit & 1]


def format_cpumask(cpus: Iterable[int]) -> str:
    value = 0
    for cpu in cpus:
        value |= 1 << cpu
    return f"{value:x}"
