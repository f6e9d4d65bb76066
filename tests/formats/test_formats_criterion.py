"""Criterion.rs target/criterion trees parsed from a real `cargo bench` (criterion 0.3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from formats_data import CRITERION

from perflab.errors import FormatError
from perflab.formats import parse_path


def per_iteration(bench_dir: Path) -> list[float]:
    """times[i] / iters[i] from sample.json, computed independently."""
    sample = json.loads((bench_dir / "new" / "sample.json").read_text())
    return [t / n for t, n in zip(sample["times"], sample["iters"], strict=True)]


class TestParseCriterion:
    def test_whole_tree(self) -> None:
        """target/criterion gives every benchmark, named by its full_id."""
        result = parse_path(CRITERION)
        assert sorted(b.name for b in result.benchmarks) == [
            "fill/vec/256",
            "sort/512",
            "sort/64",
            "sum 1000",
        ]
        assert result.meta["format"] == "criterion"

    def test_samples_are_time_per_iteration(self) -> None:
        """Each Criterion sample (times/iters) is one sample of "time" in ns."""
        result = parse_path(CRITERION, "criterion")
        for bench in result.benchmarks:
            metric = bench.metrics["time"]
            assert metric.samples == pytest.approx(per_iteration(CRITERION / bench.name))
            assert (metric.unit, metric.direction) == ("ns", "lower")
            assert len(metric.samples) == 10

    def test_throughput(self) -> None:
        """Throughput::Bytes gives bytes_per_second, Elements items_per_second; none else."""
        result = parse_path(CRITERION)
        sort, fill, total = (result.get(n) for n in ("sort/64", "fill/vec/256", "sum 1000"))
        assert sort is not None and fill is not None and total is not None
        expected = [256 / (t * 1e-9) for t in per_iteration(CRITERION / "sort" / "64")]
        assert sort.metrics["bytes_per_second"].samples == pytest.approx(expected)
        assert sort.metrics["bytes_per_second"].direction == "higher"
        assert fill.metrics["items_per_second"].unit == "items/s"
        assert set(total.metrics) == {"time"}

    def test_value_str_becomes_a_param(self) -> None:
        """BenchmarkId parameters (value_str) are params; plain functions have none."""
        result = parse_path(CRITERION)
        sort, total = result.get("sort/512"), result.get("sum 1000")
        assert sort is not None and total is not None
        assert sort.params == {"value": "512"}
        assert total.params == {}

    def test_a_folder_below_target_criterion(self) -> None:
        """A group folder (or one benchmark's folder) reads only what is below it."""
        assert sorted(b.name for b in parse_path(CRITERION / "sort").benchmarks) == [
            "sort/512",
            "sort/64",
        ]
        assert [b.name for b in parse_path(CRITERION / "sort" / "64").benchmarks] == ["sort/64"]

    def test_one_sample_file(self) -> None:
        """A new/sample.json file alone is recognised and named from its path."""
        result = parse_path(CRITERION / "sort" / "64" / "new" / "sample.json")
        assert [b.name for b in result.benchmarks] == ["sort/64"]
        assert result.benchmarks[0].metrics["time"].samples == pytest.approx(
            per_iteration(CRITERION / "sort" / "64")
        )

    def test_estimates_without_samples_are_summarized(self, tmp_path: Path) -> None:
        """Without sample.json the point estimate is the one sample, flagged in meta."""
        tree = tmp_path / "criterion"
        shutil.copytree(CRITERION / "sort", tree / "sort")
        (tree / "sort" / "64" / "new" / "sample.json").unlink()
        estimates = json.loads((tree / "sort" / "64" / "new" / "estimates.json").read_text())
        result = parse_path(tree)
        sort = result.get("sort/64")
        assert sort is not None
        assert sort.metrics["time"].samples == [estimates["slope"]["point_estimate"]]
        assert result.meta["summarized"] == ["sort/64"]

    def test_a_damaged_file_is_named(self, tmp_path: Path) -> None:
        """A cut-off sample.json fails naming that file and the line."""
        tree = tmp_path / "criterion"
        shutil.copytree(CRITERION / "sort", tree / "sort")
        sample = tree / "sort" / "512" / "new" / "sample.json"
        sample.write_text(sample.read_text()[:40])
        with pytest.raises(FormatError, match="cut off") as caught:
            parse_path(tree)
        assert caught.value.source == str(sample)
        assert (caught.value.where or "").startswith("line 1 column ")

    def test_an_empty_directory_is_an_error(self, tmp_path: Path) -> None:
        """A directory without new/sample.json files is not an empty success."""
        with pytest.raises(FormatError, match=r"no Criterion\.rs results"):
            parse_path(tmp_path)

    def test_a_directory_with_another_format_is_an_error(self) -> None:
        """Only the criterion format reads a directory."""
        with pytest.raises(FormatError, match="directory") as caught:
            parse_path(CRITERION, "gbench")
        assert caught.value.format == "gbench"
