"""What a "quiet" run may still carry on this VM: the hypervisor's steal.

A shielded run keeps other processes off its CPU, but not the host: when the hypervisor
steals 10% or more of that CPU during a fifth of the repetitions, the run is rightly
flagged ``contaminated`` (perflab/stats/contamination.py), and no test can stop that. A
test of the shield then asserts what it controls: no flag at all, or a ``contaminated``
flag whose evidence shows that other processes never reached the threshold in any
repetition (so steal alone raised it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def steal_only(flag: Mapping[str, Any]) -> bool:
    """A ``contaminated`` flag raised by steal alone: others below the threshold throughout."""
    evidence = flag.get("evidence") or {}
    return (
        flag.get("code") == "contaminated"
        and evidence.get("max_other_share", 1.0) < evidence.get("threshold", 0.0)
        and evidence.get("steal_share", 0.0) >= evidence.get("threshold", 1.0)
    )


def beyond_steal(flags: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The flags a shielded run should not have (steal-only contamination left out)."""
    return [flag for flag in flags if not steal_only(flag)]
