"""The built-in time format: the harness's measurements of the whole command."""

from __future__ import annotations

import pytest

from perflab.errors import FormatError
from perflab.formats import parse_text
from perflab.formats.time import time_result

RECORDS = [
    {
        "wall_ns": 1_500_000.0,
        "user_ns": 900_000.0,
        "sys_ns": 100_000.0,
        "maxrss_kb": 2048.0,
        "nvcsw": 3.0,
        "nivcsw": 1.0,
    },
    {
        "wall_ns": 1_400_000.0,
        "user_ns": 880_000.0,
        "sys_ns": 90_000.0,
        "maxrss_kb": 2052.0,
        "nvcsw": 2.0,
        "nivcsw": 0.0,
    },
]


class TestTimeResult:
    def test_one_sample_per_repetition(self) -> None:
        """Each record is one sample of each metric, in order."""
        result = time_result("sort.sh", RECORDS)
        bench = result.benchmarks[0]
        assert bench.name == "sort.sh"
        assert bench.metrics["wall_time"].samples == [1_500_000.0, 1_400_000.0]
        assert bench.metrics["ctx_involuntary"].samples == [1.0, 0.0]

    def test_units_and_directions(self) -> None:
        """Times in ns, max RSS converted from KiB to bytes, counts; all lower-is-better."""
        bench = time_result("x", RECORDS).benchmarks[0]
        assert {k: m.unit for k, m in bench.metrics.items()} == {
            "wall_time": "ns",
            "user_time": "ns",
            "sys_time": "ns",
            "max_rss": "B",
            "ctx_voluntary": "count",
            "ctx_involuntary": "count",
        }
        assert bench.metrics["max_rss"].samples == [2048.0 * 1024, 2052.0 * 1024]
        assert {m.direction for m in bench.metrics.values()} == {"lower"}

    def test_meta(self) -> None:
        """meta says the format and how many repetitions were measured."""
        meta = time_result("x", RECORDS).meta
        assert meta == {"format": "time", "tool": "perflab", "repetitions": 2}

    def test_missing_fields_are_skipped(self) -> None:
        """A platform without rusage gives wall time only."""
        bench = time_result("x", [{"wall_ns": 5.0}, {"wall_ns": 6.0}]).benchmarks[0]
        assert set(bench.metrics) == {"wall_time"}

    def test_bad_values_are_errors(self) -> None:
        """A value that is not a number names the repetition and the field."""
        with pytest.raises(FormatError, match="repetition 2: sys_ns"):
            time_result("x", [RECORDS[0], {**RECORDS[1], "sys_ns": float("nan")}])

    def test_nothing_measured_is_an_error(self) -> None:
        """No repetitions, or records with no known field, are errors."""
        with pytest.raises(FormatError, match="no repetitions"):
            time_result("x", [])
        with pytest.raises(FormatError, match="none of"):
            time_result("x", [{"cycles": 1.0}])

    def test_is_not_parsed_from_text(self) -> None:
        """parse_text with the time format explains that the harness measures it."""
        with pytest.raises(FormatError, match="measured by the harness"):
            parse_text("real 0m0.01s", "time")
