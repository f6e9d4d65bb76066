"""How eagerly the kernel swaps anonymous memory: ``/proc/sys/vm/swappiness``.

A low value keeps a benchmark's working set in RAM while the page cache takes
the pressure; 0 is a real value (not "unset").
"""

from __future__ import annotations

from typing import Any, ClassVar

from perflab.knobs._common import ValueFileKnob


class Swappiness(ValueFileKnob):
    name = "swappiness"
    summary = "how eagerly the kernel swaps (vm.swappiness, 0-200)"
    path = "/proc/sys/vm/swappiness"
    missing_reason = "this kernel has no vm.swappiness"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value"],
        "properties": {
            "value": {
                "type": "integer",
                "minimum": 0,
                "maximum": 200,
                "x-expected": "an integer from 0 to 200",
            },
        },
    }
