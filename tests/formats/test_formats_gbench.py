"""Google Benchmark JSON parsed from real outputs (libbenchmark 1.7)."""

from __future__ import annotations

import copy
import json

import pytest
from formats_data import DATA, load_json, read_text

from perflab.errors import FormatError
from perflab.formats import parse_path, parse_text

REPS = load_json("gbench/repetitions.json")


def iteration_rows(doc: dict, run_name: str) -> list[dict]:
    """The repetition rows of one benchmark, read independently of the parser."""
    return [
        r for r in doc["benchmarks"] if r["run_name"] == run_name and r["run_type"] == "iteration"
    ]


class TestParseGbench:
    def test_repetitions_are_samples_and_aggregates_are_not(self) -> None:
        """Three repetitions -> three samples; mean/median/stddev/cv rows are skipped."""
        result = parse_path(DATA / "gbench" / "repetitions.json", "gbench")
        names = list(dict.fromkeys(r["run_name"] for r in REPS["benchmarks"]))
        assert [b.name for b in result.benchmarks] == names
        for bench in result.benchmarks:
            rows = iteration_rows(REPS, bench.name)
            assert bench.metrics["time"].samples == [r["real_time"] for r in rows]
            assert bench.metrics["cpu_time"].samples == [r["cpu_time"] for r in rows]
            assert len(rows) == 3

    def test_time_unit_is_kept(self) -> None:
        """real_time keeps the row's time_unit (us for BM_Memcpy, ns elsewhere)."""
        result = parse_text(read_text("gbench/repetitions.json"))
        memcpy, sort = result.get("BM_Memcpy/4096"), result.get("BM_Sort/64")
        assert memcpy is not None and sort is not None
        assert memcpy.metrics["time"].unit == "us"
        assert sort.metrics["time"].unit == "ns"
        assert sort.metrics["time"].direction == "lower"

    def test_throughput_and_counters(self) -> None:
        """SetBytesProcessed/SetItemsProcessed are higher-is-better; counters keep names."""
        result = parse_text(read_text("gbench/repetitions.json"))
        memcpy, sort = result.get("BM_Memcpy/4096"), result.get("BM_Sort/64")
        fill = result.get("BM_Fill/n:64/k:1")
        assert memcpy is not None and sort is not None and fill is not None
        assert (
            memcpy.metrics["bytes_per_second"].unit,
            memcpy.metrics["bytes_per_second"].direction,
        ) == ("B/s", "higher")
        assert (
            sort.metrics["items_per_second"].unit,
            sort.metrics["items_per_second"].direction,
        ) == ("items/s", "higher")
        assert fill.metrics["fills_per_second"].direction == "higher"
        assert fill.metrics["elements"].samples == [64.0, 64.0, 64.0]
        assert fill.metrics["elements"].direction == "lower"

    def test_args_become_params(self) -> None:
        """Named args (n:64) keep their name; bare args are positional."""
        result = parse_text(read_text("gbench/repetitions.json"))
        assert result.benchmarks[0].params == {"arg0": "64"}
        fill = result.get("BM_Fill/n:256/k:7")
        assert fill is not None and fill.params == {"n": "256", "k": "7"}

    def test_context_goes_to_meta(self) -> None:
        """The context block (CPU count, date, host) is kept in meta."""
        meta = parse_text(read_text("gbench/repetitions.json")).meta
        assert meta["format"] == "gbench"
        assert meta["context"]["num_cpus"] == REPS["context"]["num_cpus"]
        assert meta["context"]["date"] == REPS["context"]["date"]

    def test_single_run_without_repetitions(self) -> None:
        """Without --benchmark_repetitions each benchmark has one sample."""
        result = parse_path(DATA / "gbench" / "single.json")
        assert [len(b.metrics["time"].samples) for b in result.benchmarks] == [1, 1]

    def test_only_aggregates_is_an_error(self) -> None:
        """--benchmark_report_aggregates_only leaves no samples: a clear error."""
        with pytest.raises(FormatError, match="only aggregate rows") as caught:
            parse_path(DATA / "gbench" / "aggregates_only.json")
        assert caught.value.format == "gbench"
        assert caught.value.where == "$.benchmarks"

    def test_truncated_json_names_format_and_line(self) -> None:
        """A cut-off document fails with the format and the line where it stops."""
        path = DATA / "gbench" / "truncated.json"
        lines = path.read_text().count("\n") + 1
        for fmt in ("auto", "gbench"):
            with pytest.raises(FormatError, match="cut off") as caught:
                parse_path(path, fmt)
            assert caught.value.format == "gbench"
            assert caught.value.where is not None
            assert caught.value.where.startswith(f"line {lines} ")

    def test_wrong_value_names_the_json_path(self) -> None:
        """A non-number where a time belongs is reported at its JSON path."""
        doc = copy.deepcopy(REPS)
        doc["benchmarks"][2]["real_time"] = "fast"
        with pytest.raises(FormatError, match='expected a number, got "fast"') as caught:
            parse_text(json.dumps(doc), "gbench")
        assert caught.value.where == "$.benchmarks[2].real_time"

    def test_missing_field_names_the_json_path(self) -> None:
        """A row without real_time is reported at that field's path."""
        doc = copy.deepcopy(REPS)
        del doc["benchmarks"][0]["real_time"]
        with pytest.raises(FormatError, match="missing") as caught:
            parse_text(json.dumps(doc))
        assert caught.value.where == "$.benchmarks[0].real_time"

    def test_failed_benchmark_rows_are_listed_not_sampled(self) -> None:
        """A row with error_occurred is skipped and its message kept in meta."""
        doc = copy.deepcopy(REPS)
        first = doc["benchmarks"][0]
        first.update(error_occurred=True, error_message="boom")
        result = parse_text(json.dumps(doc))
        assert result.meta["errors"] == {"BM_Sort/64": "boom"}
        sort = result.get("BM_Sort/64")
        assert sort is not None and len(sort.metrics["time"].samples) == 2
