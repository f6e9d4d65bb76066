"""Which metric names each format can produce: a declared property, checked against real output.

`perflab validate` refuses a gate whose metric a job's format never produces; that is only
honest if each parser's declaration matches what it really produces. Closed formats must
produce exactly their declared names; open-ended ones (tools that add names of their own) must
produce their built-in names and really add others.
"""

from __future__ import annotations

import json

import pytest
from formats_data import CRITERION, DATA, load_json

from perflab.errors import FormatError
from perflab.formats import FORMATS, metric_names, parse_path, parse_text
from perflab.formats.time import time_result
from perflab.model import ResultSet

# Real outputs per format (tests/data/formats, see regenerate.sh there).
OUTPUTS = {
    "go": ["go/bench.txt", "go/cpu.txt", "go/test2json.json"],
    "gbench": ["gbench/repetitions.json", "gbench/single.json"],
    "hyperfine": ["hyperfine/commands.json", "hyperfine/list.json", "hyperfine/scan.json"],
    "pytest-benchmark": [
        "pytest-benchmark/data.json",
        "pytest-benchmark/saved-data.json",
        "pytest-benchmark/saved-stats.json",
    ],
    "criterion": [str(CRITERION.relative_to(DATA))],
    "jmh": ["jmh/thrpt_avgt.json", "jmh/sample_ss.json"],
}
CLOSED = ("time", "hyperfine", "pytest-benchmark", "criterion")
OPEN = ("go", "gbench", "jmh", "perflab")


def names(result: ResultSet) -> set[str]:
    return {m for b in result.benchmarks for m in b.metrics}


def produced(fmt: str) -> set[str]:
    """Every metric name the format's real outputs (and the documented extras) produce."""
    found: set[str] = set()
    for relative in OUTPUTS.get(fmt, []):
        found |= names(parse_path(DATA / relative, fmt))
    if fmt == "hyperfine":  # newer hyperfine: memory_usage_byte per run (not in the data)
        doc = load_json("hyperfine/commands.json")
        doc["results"][0]["memory_usage_byte"] = [1000] * len(doc["results"][0]["times"])
        found |= names(parse_text(json.dumps(doc), "hyperfine"))
    if fmt == "time":
        found |= names(
            time_result(
                "b",
                [
                    {
                        "wall_ns": 1,
                        "user_ns": 1,
                        "sys_ns": 1,
                        "maxrss_kb": 1,
                        "nvcsw": 1,
                        "nivcsw": 1,
                    }
                ],
            )
        )
    return found


class TestDeclaredMetricNames:
    def test_every_format_is_classified(self) -> None:
        """Each format is either closed (its names are known) or open-ended; auto is unknown."""
        assert set(FORMATS) == {"auto", *CLOSED, *OPEN}
        assert metric_names("auto") is None
        for fmt in OPEN:
            assert metric_names(fmt) is None, fmt
        for fmt in CLOSED:
            declared = metric_names(fmt)
            assert declared and len(set(declared)) == len(declared), fmt

    @pytest.mark.parametrize("fmt", CLOSED)
    def test_closed_formats_produce_exactly_what_they_declare(self, fmt: str) -> None:
        """A closed format's real outputs produce its declared names, no more, no fewer."""
        assert produced(fmt) == set(metric_names(fmt) or ())

    def test_primary_metric_comes_first(self) -> None:
        """The first declared name is the one a "did you mean" points to: wall_time for time."""
        assert (metric_names("time") or ())[0] == "wall_time"
        for fmt in ("hyperfine", "pytest-benchmark", "criterion"):
            assert (metric_names(fmt) or ())[0] == "time", fmt

    @pytest.mark.parametrize(
        ("fmt", "extra"),
        [("go", "copies/s"), ("gbench", "fills_per_second"), ("jmh", "gc.alloc.rate.norm")],
    )
    def test_open_formats_really_add_names(self, fmt: str, extra: str) -> None:
        """Open-ended is real: the tool's own counters appear beside the built-in names."""
        assert extra in produced(fmt)

    def test_unknown_format(self) -> None:
        """A name that is no format is an error, not an empty set."""
        with pytest.raises(FormatError):
            metric_names("nope")
