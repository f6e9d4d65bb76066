"""hyperfine --export-json parsed from real outputs (hyperfine 1.15)."""

from __future__ import annotations

import copy
import json

import pytest
from formats_data import DATA, load_json, read_text

from perflab.errors import FormatError
from perflab.formats import parse_path, parse_text


class TestParseHyperfine:
    def test_every_run_is_a_sample(self) -> None:
        """The per-run times are the samples of "time", in seconds, lower is better."""
        doc = load_json("hyperfine/commands.json")
        result = parse_path(DATA / "hyperfine" / "commands.json", "hyperfine")
        assert [b.name for b in result.benchmarks] == [r["command"] for r in doc["results"]]
        for bench, entry in zip(result.benchmarks, doc["results"], strict=True):
            metric = bench.metrics["time"]
            assert metric.samples == entry["times"]
            assert (metric.unit, metric.direction) == ("s", "lower")
            assert len(metric.samples) == 5
            assert set(bench.metrics) == {"time"}

    def test_list_parameters_become_params(self) -> None:
        """-L ms 1,5 gives one benchmark per value with params {"ms": ...}."""
        result = parse_text(read_text("hyperfine/list.json"))
        assert [b.params for b in result.benchmarks] == [{"ms": "1"}, {"ms": "5"}]
        assert [b.name for b in result.benchmarks] == ["sleep 0.001", "sleep 0.005"]

    def test_parameter_scan_with_command_names(self) -> None:
        """--parameter-scan with -n: the names come from -n, the values from the scan."""
        result = parse_text(read_text("hyperfine/scan.json"))
        assert [(b.name, b.params) for b in result.benchmarks] == [
            ("sleep 1 ms", {"n": "1"}),
            ("sleep 2 ms", {"n": "2"}),
            ("sleep 3 ms", {"n": "3"}),
        ]

    def test_failed_runs_are_counted(self) -> None:
        """Non-zero exit codes (--ignore-failure) are counted in meta."""
        doc = load_json("hyperfine/commands.json")
        doc["results"][1]["exit_codes"][0] = 1
        result = parse_text(json.dumps(doc))
        assert result.meta["failed_runs"] == {"sleep 0.01": 1}

    def test_memory_per_run_becomes_max_rss(self) -> None:
        """Newer hyperfine writes memory_usage_byte per run: it becomes max_rss in bytes."""
        doc = load_json("hyperfine/commands.json")
        doc["results"][0]["memory_usage_byte"] = [1000 + i for i in range(5)]
        bench = parse_text(json.dumps(doc)).benchmarks[0]
        assert bench.metrics["max_rss"].samples == [1000, 1001, 1002, 1003, 1004]
        assert (bench.metrics["max_rss"].unit, bench.metrics["max_rss"].direction) == ("B", "lower")

    def test_duplicate_commands_stay_apart(self) -> None:
        """The same command benchmarked twice gives two benchmarks, not one merged."""
        doc = load_json("hyperfine/commands.json")
        doc["results"].append(copy.deepcopy(doc["results"][0]))
        names = [b.name for b in parse_text(json.dumps(doc)).benchmarks]
        assert names == ["true/#1", "sleep 0.01", "true/#3"]

    def test_summary_without_times_is_an_error(self) -> None:
        """An entry with only mean/stddev has no samples: the error names the path."""
        doc = load_json("hyperfine/commands.json")
        del doc["results"][1]["times"]
        with pytest.raises(FormatError, match="not samples") as caught:
            parse_text(json.dumps(doc))
        assert caught.value.where == "$.results[1].times"

    def test_empty_times_is_an_error(self) -> None:
        """An entry whose runs list is empty has no samples: an error at its path."""
        doc = load_json("hyperfine/commands.json")
        doc["results"][0]["times"] = []
        with pytest.raises(FormatError, match="no time samples") as caught:
            parse_text(json.dumps(doc))
        assert caught.value.where == "$.results[0].times"

    def test_no_results_is_an_error(self) -> None:
        """An export with an empty results list is not an empty success."""
        with pytest.raises(FormatError, match="no benchmark results"):
            parse_text('{"results": []}', "hyperfine")
