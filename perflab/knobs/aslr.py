"""ASLR policy: ``/proc/sys/kernel/randomize_va_space``, an explicit choice of the profile.

0 turns address space randomization off (addresses, and so cache and TLB
aliasing, repeat from run to run), 1 randomizes stack, mmap and vDSO, 2 (the
kernel default) also the heap. Which one a lab wants is a judgement call, so
the task must say it: there is no default.
"""

from __future__ import annotations

from typing import Any, ClassVar

from perflab.knobs._common import ValueFileKnob


class Aslr(ValueFileKnob):
    name = "aslr"
    summary = "address space layout randomization policy (randomize_va_space 0, 1 or 2)"
    path = "/proc/sys/kernel/randomize_va_space"
    missing_reason = "this kernel has no ASLR switch"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value"],
        "properties": {
            "value": {
                "enum": [0, 1, 2],
                "x-expected": "0 (off), 1 (stack, mmap, vDSO) or 2 (also the heap)",
            },
        },
    }
