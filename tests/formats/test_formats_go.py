"""Go `go test -bench` text (and `go test -json`) parsed from real outputs."""

from __future__ import annotations

import json
import re

import pytest
from formats_data import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.errors import FormatError
from perflab.formats import parse_path, parse_text

BENCH = (DATA / "go" / "bench.txt").read_text()


def values(text: str, name: str, unit: str) -> list[float]:
    """The values printed before ``unit`` on every line of benchmark ``name`` (independent)."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == name:
            found.append(float(fields[fields.index(unit) - 1]))
    return found


class TestParseGo:
    def test_names_strip_the_gomaxprocs_suffix(self) -> None:
        """-2 is GOMAXPROCS: it leaves the name and becomes a param."""
        result = parse_path(DATA / "go" / "bench.txt", "go")
        assert [b.name for b in result.benchmarks] == [
            "BenchmarkJoin",
            "BenchmarkSort/n=16",
            "BenchmarkSort/n=256",
            "BenchmarkCopy/buf/4k",
        ]
        assert all(b.params["gomaxprocs"] == "2" for b in result.benchmarks)

    def test_each_count_line_is_one_sample(self) -> None:
        """-count 3 gives three samples of ns/op, in file order."""
        result = parse_text(BENCH, "go")
        for bench in result.benchmarks:
            metric = bench.metrics["time"]
            assert metric.samples == values(BENCH, f"{bench.name}-2", "ns/op")
            assert len(metric.samples) == 3
            assert (metric.unit, metric.direction) == ("ns", "lower")

    def test_benchmem_and_setbytes_metrics(self) -> None:
        """B/op, allocs/op and MB/s get the shared metric names, units and directions."""
        sort = parse_text(BENCH, "go").get("BenchmarkSort/n=16")
        assert sort is not None
        shape = {k: (m.unit, m.direction) for k, m in sort.metrics.items()}
        assert shape == {
            "time": ("ns", "lower"),
            "bytes_per_second": ("MB/s", "higher"),
            "bytes_per_op": ("B", "lower"),
            "allocs_per_op": ("count", "lower"),
        }
        assert sort.metrics["bytes_per_second"].samples == values(
            BENCH, "BenchmarkSort/n=16-2", "MB/s"
        )

    def test_custom_report_metric_units(self) -> None:
        """b.ReportMetric units become metrics named after the unit; /s is higher-is-better."""
        copy = parse_text(BENCH, "go").get("BenchmarkCopy/buf/4k")
        assert copy is not None
        assert copy.metrics["copies/s"].direction == "higher"
        assert copy.metrics["bytes/copy"].direction == "lower"
        assert copy.metrics["copies/s"].samples == values(
            BENCH, "BenchmarkCopy/buf/4k-2", "copies/s"
        )

    def test_sub_benchmark_params(self) -> None:
        """name=value parts are named params, other parts positional."""
        result = parse_text(BENCH, "go")
        assert result.benchmarks[1].params == {"n": "16", "gomaxprocs": "2"}
        assert result.benchmarks[3].params == {"arg0": "buf", "arg1": "4k", "gomaxprocs": "2"}

    def test_header_goes_to_meta(self) -> None:
        """goos/goarch/pkg/cpu lines are kept as context."""
        meta = parse_text(BENCH, "go").meta
        assert meta["format"] == "go"
        assert meta["context"]["pkg"] == "perflab.example/benchdemo"
        assert set(meta["context"]) == {"goos", "goarch", "pkg", "cpu"}

    def test_cpu_list_keeps_runs_apart(self) -> None:
        """-cpu 1,2 runs each benchmark twice; the names keep -1/-2 so samples do not mix."""
        text = (DATA / "go" / "cpu.txt").read_text()
        result = parse_text(text, "go")
        join1, join2 = result.get("BenchmarkJoin-1"), result.get("BenchmarkJoin-2")
        assert join1 is not None and join2 is not None
        assert join1.params["gomaxprocs"] == "1" and join2.params["gomaxprocs"] == "2"
        assert join1.metrics["time"].samples == values(text, "BenchmarkJoin", "ns/op")
        assert join2.metrics["time"].samples == values(text, "BenchmarkJoin-2", "ns/op")
        assert len(result.benchmarks) == 6

    def test_same_name_in_two_packages_stays_apart(self) -> None:
        """go test ./... with a benchmark name in two packages prefixes the package."""
        other = BENCH.replace("pkg: perflab.example/benchdemo", "pkg: perflab.example/other")
        result = parse_text(BENCH + other, "go")
        assert len(result.benchmarks) == 8
        bench = result.get("perflab.example/other.BenchmarkJoin")
        assert bench is not None
        assert bench.metrics["time"].samples == values(other, "BenchmarkJoin-2", "ns/op")
        assert result.meta["context"]["pkg"] == [
            "perflab.example/benchdemo",
            "perflab.example/other",
        ]

    def test_go_test_json_events(self) -> None:
        """`go test -json` output gives the same result as its plain text."""
        raw = (DATA / "go" / "test2json.json").read_text()
        plain = "".join(json.loads(line).get("Output", "") for line in raw.splitlines())
        from_events = parse_text(raw, "go").to_dict()
        from_text = parse_text(plain, "go").to_dict()
        assert from_events["benchmarks"] == from_text["benchmarks"]
        assert len(from_events["benchmarks"]) == 3

    def test_long_json_events_are_recognised(self) -> None:
        """`go test -json` is recognised even when its first event is a long line."""
        raw = (DATA / "go" / "test2json.json").read_text().splitlines(keepends=True)
        first = json.loads(raw[0])
        first["Package"] = "example.com/" + "x" * 500
        text = json.dumps(first) + "\n" + "".join(raw[1:])
        result = parse_text(text)
        assert result.meta["format"] == "go"
        assert len(result.benchmarks) == 3

    def test_cut_mid_line_is_an_error_naming_the_line(self) -> None:
        """Output cut in the middle of a benchmark line fails on that line."""
        path = DATA / "go" / "truncated.txt"
        last = len(path.read_text().splitlines())
        with pytest.raises(FormatError) as caught:
            parse_path(path)
        assert caught.value.format == "go"
        assert caught.value.where == f"line {last}"
        assert "cut off" in str(caught.value)

    @settings(max_examples=60, deadline=None)
    @given(st.data())
    def test_any_cut_inside_a_benchmark_line_is_an_error(self, data: st.DataObject) -> None:
        """Wherever the output stops inside a result line, the parse fails on that line."""
        lines = BENCH.splitlines(keepends=True)
        index = data.draw(
            st.sampled_from([i for i, line in enumerate(lines) if line.startswith("Benchmark")])
        )
        cut = data.draw(st.integers(min_value=2, max_value=len(lines[index]) - 2))
        text = "".join(lines[:index]) + lines[index][:cut]
        with pytest.raises(FormatError) as caught:
            parse_text(text, "go")
        assert caught.value.where == f"line {index + 1}"

    def test_a_damaged_line_in_the_middle_is_an_error(self) -> None:
        """A line with fewer units than its siblings is reported with both line numbers."""
        lines = BENCH.splitlines(keepends=True)
        second = [i for i, line in enumerate(lines) if line.startswith("BenchmarkJoin")][1]
        lines[second] = re.sub(r"\s+2 allocs/op", "", lines[second])
        with pytest.raises(FormatError) as caught:
            parse_text("".join(lines), "go")
        assert caught.value.where == f"line {second + 1}"

    def test_bad_number_is_an_error(self) -> None:
        """A value that is not a number names the unit and the line."""
        lines = BENCH.splitlines(keepends=True)
        first = next(i for i, line in enumerate(lines) if line.startswith("Benchmark"))
        lines[first] = re.sub(r"[\d.]+ ns/op", "fast ns/op", lines[first])
        with pytest.raises(FormatError, match="ns/op") as caught:
            parse_text("".join(lines), "go")
        assert caught.value.where == f"line {first + 1}"

    def test_no_benchmarks_is_an_error(self) -> None:
        """A run that printed no result lines is not an empty success."""
        header = "".join(BENCH.splitlines(keepends=True)[:4]) + "PASS\n"
        with pytest.raises(FormatError, match="no benchmark result lines"):
            parse_text(header, "go")

    def test_forced_on_gbench_json_names_the_real_format(self) -> None:
        """--format go on Google Benchmark JSON says what the file looks like."""
        with pytest.raises(FormatError, match="looks like gbench") as caught:
            parse_path(DATA / "gbench" / "repetitions.json", "go")
        assert caught.value.format == "go"
