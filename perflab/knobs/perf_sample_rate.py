"""The perf sampling rate ceiling: ``/proc/sys/kernel/perf_event_max_sample_rate``.

A profiler sampling at a high rate steals time from the benchmark; the kernel
also lowers this value by itself when perf interrupts take too long (it logs
"perf: interrupt took too long"), so a host that drifted shows up here. The
kernel refuses writes while ``perf_cpu_time_max_percent`` is 0 or 100.
"""

from __future__ import annotations

from typing import Any, ClassVar

from perflab.knobs._common import ValueFileKnob


class PerfSampleRate(ValueFileKnob):
    name = "perf_sample_rate"
    summary = "maximum perf sampling rate (perf_event_max_sample_rate, samples/s)"
    path = "/proc/sys/kernel/perf_event_max_sample_rate"
    missing_reason = "this kernel has no perf events"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["value"],
        "properties": {
            "value": {
                "type": "integer",
                "minimum": 1,
                "x-expected": "a sampling rate in samples per second >= 1",
            },
        },
    }
