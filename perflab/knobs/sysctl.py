"""Any sysctl by name: ``kernel.sched_rt_runtime_us`` -> ``/proc/sys/kernel/sched_rt_runtime_us``.

For settings without a knob of their own. Names are dotted words (letters,
digits, ``_`` and ``-``); ``..``, ``/`` and anything else are refused, so a task
can never point outside ``/proc/sys``. Values compare with runs of whitespace
made one space: ``kernel.printk`` reads "4\\t4\\t1\\t7" and may be given as "4 4 1 7".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.knobs.base import Facts, FileKnob, HostContext, Plan

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)+$")

#: sysctls that are actions or owned by another knob, and what to use instead
ELSEWHERE = {
    "vm.drop_caches": "the drop_caches knob (it is an action, not a setting)",
}


def sysctl_path(name: str) -> str:
    """``"vm.swappiness"`` -> ``"/proc/sys/vm/swappiness"`` (ValueError for a bad name)."""
    if not NAME.match(name):
        raise ValueError(f'expected a sysctl name like "vm.swappiness", got "{name}"')
    return "/proc/sys/" + name.replace(".", "/")


def normalize(value: Any) -> str:
    return " ".join(str(value).split())


class Sysctl(FileKnob):
    name = "sysctl"
    reads_need_context = False  # its files are the same on every host
    summary = "any sysctl by name (kernel.sched_rt_runtime_us, vm.dirty_ratio ...)"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "value"],
        "properties": {
            "name": {
                "type": "string",
                "pattern": NAME.pattern,
                "x-expected": 'a sysctl name like "vm.swappiness" '
                "(dotted words of letters, digits, '_', '-')",
            },
            "value": {
                "type": ["integer", "string"],
                "x-expected": 'an integer or a string like "4 4 1 7"',
            },
        },
    }

    def targets(
        self, args: Mapping[str, Any], ctx: HostContext, facts: Facts | None
    ) -> dict[str, str]:
        return {sysctl_path(str(args["name"])): normalize(args["value"])}

    def current(self, path: str, facts: Facts) -> str | None:
        text = facts.text(path)
        return None if text is None else normalize(text)

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        name = str(args["name"])
        if name in ELSEWHERE:
            return self.error(
                task, f"{name} is not set with the sysctl knob: use {ELSEWHERE[name]}"
            )
        try:
            path = sysctl_path(name)
        except ValueError as exc:
            return self.error(task, str(exc))
        if facts.files.get(path) is None:
            return self.skipped(task, f"no sysctl {name} on this host ({path} does not exist)")
        return super().plan(task, args, facts, ctx)

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        try:
            return [sysctl_path(str(args["name"]))]
        except ValueError:
            return []
