"""Drop the page cache, dentries and inodes right before measuring: ``vm.drop_caches``.

An *action*, not a setting: there is nothing to read back, verify or restore,
and it is done on every apply. Its plan has status ``"action"`` (see
:data:`perflab.knobs.base.Status`): check mode shows "would drop caches",
apply runs ``sync`` (only clean pages can be dropped) and then writes the
file, and a second apply does not count it as a change of state nor a
verification as "not tuned". Applied last, so the caches are cold at the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.knobs._common import exists, exists_glob
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan

PATH = "/proc/sys/vm/drop_caches"
WHAT = {
    "pagecache": ("1", "the page cache"),
    "slab": ("2", "dentries and inodes"),
    "all": ("3", "the page cache, dentries and inodes"),
}


class DropCaches(Knob):
    name = "drop_caches"
    reads_need_context = False  # its files are the same on every host
    action: ClassVar[bool] = True  # the engine's test for "not a change of state"
    summary = "drop the page cache, dentries and inodes before measuring (an action)"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "what": {"enum": list(WHAT), "default": "all"},
            "sync": {
                "type": "boolean",
                "default": True,
                "x-expected": "true or false (default true: write dirty pages first)",
            },
        },
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [exists_glob(PATH)]  # write-only: reading it fails even for root

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        what = str(args.get("what", "all"))
        value, words = WHAT[what]
        if not exists(facts, PATH):
            return self.skipped(task, f"this kernel cannot drop caches ({PATH} does not exist)")
        ops: list[dict[str, Any]] = []
        if args.get("sync", True):
            ops.append({"op": "command", "argv": ["sync"]})
        ops.append({"op": "action", "path": PATH, "value": value})
        change = Change(target="caches", old=None, new=f"dropped ({words})", ops=ops)
        return Plan(
            self.name,
            task,
            "action",
            changes=[change],
            state={"drop_caches": what},
            notes=[f"would drop {words}"],
        )
