"""pytest-benchmark JSON parsed from real outputs (pytest-benchmark 5.2)."""

from __future__ import annotations

import json

import pytest
from formats_data import DATA, load_json, read_text

from perflab.errors import FormatError
from perflab.formats import parse_path, parse_text


class TestParsePytestBenchmark:
    @pytest.mark.parametrize("file", ["data.json", "saved-data.json"])
    def test_every_round_is_a_sample(self, file: str) -> None:
        """With per-round data each round's time per iteration is one sample (seconds)."""
        doc = load_json(f"pytest-benchmark/{file}")
        result = parse_path(DATA / "pytest-benchmark" / file, "pytest-benchmark")
        assert [b.name for b in result.benchmarks] == [e["name"] for e in doc["benchmarks"]]
        for bench, entry in zip(result.benchmarks, doc["benchmarks"], strict=True):
            metric = bench.metrics["time"]
            assert metric.samples == entry["stats"]["data"]
            assert (metric.unit, metric.direction) == ("s", "lower")
        assert "summarized" not in result.meta

    def test_parametrized_tests_have_params(self) -> None:
        """params of parametrized tests become text params; plain tests have none."""
        result = parse_text(read_text("pytest-benchmark/data.json"))
        assert result.benchmarks[0].params == {}
        assert result.benchmarks[1].params == {"n": "16"}
        build = result.get("test_build[tuple-8]")
        assert build is not None and build.params == {"kind": "tuple", "size": "8"}

    def test_stats_only_gives_the_median_and_says_so(self) -> None:
        """A file saved without data has one sample per benchmark (the median), flagged."""
        doc = load_json("pytest-benchmark/saved-stats.json")
        result = parse_path(DATA / "pytest-benchmark" / "saved-stats.json")
        for bench, entry in zip(result.benchmarks, doc["benchmarks"], strict=True):
            assert bench.metrics["time"].samples == [entry["stats"]["median"]]
        assert result.meta["summarized"] == [e["name"] for e in doc["benchmarks"]]
        assert "--benchmark-save-data" in result.meta["note"]

    def test_meta_has_version_and_machine(self) -> None:
        """Tool version, date, machine and commit are kept in meta."""
        doc = load_json("pytest-benchmark/data.json")
        meta = parse_text(read_text("pytest-benchmark/data.json")).meta
        assert meta["version"] == doc["version"]
        assert meta["context"]["date"] == doc["datetime"]
        assert meta["context"]["python_version"] == doc["machine_info"]["python_version"]

    def test_same_name_in_two_modules_uses_the_node_id(self) -> None:
        """Two tests called test_join in different files stay two benchmarks."""
        doc = load_json("pytest-benchmark/data.json")
        other = json.loads(json.dumps(doc["benchmarks"][0]))
        other["fullname"] = "other/test_mod.py::test_join"
        doc["benchmarks"].append(other)
        names = [b.name for b in parse_text(json.dumps(doc)).benchmarks]
        assert doc["benchmarks"][0]["fullname"] in names
        assert "other/test_mod.py::test_join" in names

    def test_bad_round_value_names_the_json_path(self) -> None:
        """A round that is not a number is reported at its JSON path."""
        doc = load_json("pytest-benchmark/data.json")
        doc["benchmarks"][1]["stats"]["data"][2] = None
        with pytest.raises(FormatError) as caught:
            parse_text(json.dumps(doc))
        assert caught.value.where == "$.benchmarks[1].stats.data[2]"
        assert caught.value.format == "pytest-benchmark"

    def test_no_benchmarks_is_an_error(self) -> None:
        """A session that benchmarked nothing is an error, not an empty success."""
        doc = load_json("pytest-benchmark/data.json")
        doc["benchmarks"] = []
        with pytest.raises(FormatError, match="no benchmarks"):
            parse_text(json.dumps(doc))
