"""Transparent huge pages: ``/sys/kernel/mm/transparent_hugepage/{enabled,defrag}``.

Whether anonymous memory is backed by 2 MiB pages (``always``, ``madvise``:
only where the program asks, ``never``) and how hard the kernel works to find
them (``defrag``: compaction stalls inside the benchmark). The files show every
choice with the current one in brackets, "always [madvise] never"; the host-side
helper records the bracketed word, so restore writes back a valid value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.knobs.base import Facts, FileKnob, HostContext, Plan

THP = "/sys/kernel/mm/transparent_hugepage"
FILES = ("enabled", "defrag")


def choices(text: str | None) -> list[str]:
    """``"always [madvise] never"`` -> ``["always", "madvise", "never"]``."""
    return [word.strip("[]") for word in (text or "").split()]


class TransparentHugepages(FileKnob):
    name = "transparent_hugepages"
    reads_need_context = False  # its files are the same on every host
    summary = "transparent huge pages policy (enabled and defrag)"
    bracket = True
    missing_reason = "this kernel has no transparent huge pages"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "enabled": {"enum": ["always", "madvise", "never"]},
            "defrag": {"enum": ["always", "defer", "defer+madvise", "madvise", "never"]},
        },
    }

    def targets(
        self, args: Mapping[str, Any], ctx: HostContext, facts: Facts | None
    ) -> dict[str, str]:
        return {f"{THP}/{name}": str(args[name]) for name in FILES if name in args}

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        for path, value in self.targets(args, ctx, facts).items():
            offered = choices(facts.text(path))
            if offered and value not in offered:
                return self.error(
                    task,
                    f'"{value}" is not a choice of {path} on this kernel '
                    f"(it offers: {' '.join(offered)})",
                )
        return super().plan(task, args, facts, ctx)
