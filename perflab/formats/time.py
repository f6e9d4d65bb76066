"""The built-in ``time`` format: the harness's own measurements of the whole command.

Nothing is parsed from the benchmark's output: the harness measures each repetition
(wall clock, rusage of the children) and :func:`time_result` turns those records into one
sample per repetition of each metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from perflab.errors import FormatError, describe
from perflab.model import Direction, ResultBuilder, ResultSet

NAME = "time"

# record key -> (metric, unit, direction, factor to the unit)
FIELDS: dict[str, tuple[str, str, Direction, float]] = {
    "wall_ns": ("wall_time", "ns", "lower", 1.0),
    "user_ns": ("user_time", "ns", "lower", 1.0),
    "sys_ns": ("sys_time", "ns", "lower", 1.0),
    "maxrss_kb": ("max_rss", "B", "lower", 1024.0),
    "nvcsw": ("ctx_voluntary", "count", "lower", 1.0),
    "nivcsw": ("ctx_involuntary", "count", "lower", 1.0),
}
# The metric names this format can produce, primary first ("did you mean" points there).
METRICS: tuple[str, ...] = tuple(metric for metric, _, _, _ in FIELDS.values())
OPEN_ENDED = False


def time_result(benchmark: str, repetitions: Sequence[Mapping[str, float]]) -> ResultSet:
    """One sample per repetition of each measured field (fields a record lacks are skipped)."""
    if not repetitions:
        raise FormatError(NAME, "no repetitions were measured", where=benchmark)
    builder = ResultBuilder()
    builder.benchmark(benchmark)
    for index, record in enumerate(repetitions):
        for key, (metric, unit, direction, factor) in FIELDS.items():
            if key in record:
                value = _value(record[key], f"repetition {index + 1}: {key}")
                builder.add(benchmark, metric, value * factor, unit, direction)
    if not builder.result.benchmarks[0].metrics:
        raise FormatError(NAME, f"the records hold none of {', '.join(FIELDS)}", where=benchmark)
    builder.result.meta.update({"format": NAME, "tool": "perflab", "repetitions": len(repetitions)})
    return builder.result


def _value(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise FormatError(NAME, f"expected a number, got {describe(value)}", where=where)
    return float(value)
