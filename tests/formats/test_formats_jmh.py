"""JMH JSON, from hand-written files after JMH's documented format (see data/formats/jmh)."""

from __future__ import annotations

import copy
import json

import pytest
from formats_data import DATA, load_json, read_text

from perflab.errors import FormatError
from perflab.formats import parse_path, parse_text

THRPT = load_json("jmh/thrpt_avgt.json")


def flat(raw: list[list[float]]) -> list[float]:
    """rawData (per fork, per iteration) flattened in fork order."""
    return [v for fork in raw for v in fork]


class TestParseJmh:
    def test_throughput_mode_is_higher_is_better(self) -> None:
        """thrpt: every iteration of every fork is a sample of "throughput" in ops/s."""
        result = parse_path(DATA / "jmh" / "thrpt_avgt.json", "jmh")
        bench = result.benchmarks[0]
        assert bench.name == "org.perflab.demo.ListBench.arrayList/size=100"
        metric = bench.metrics["throughput"]
        assert metric.samples == flat(THRPT[0]["primaryMetric"]["rawData"])
        assert (metric.unit, metric.direction) == ("ops/s", "higher")
        assert len(metric.samples) == 6

    def test_average_time_mode_is_time(self) -> None:
        """avgt: "time", us/op becomes us, lower is better."""
        bench = parse_text(read_text("jmh/thrpt_avgt.json")).benchmarks[2]
        assert bench.metrics["time"].unit == "us"
        assert bench.metrics["time"].direction == "lower"
        assert bench.metrics["time"].samples == flat(THRPT[2]["primaryMetric"]["rawData"])

    def test_params_and_mode(self) -> None:
        """JMH params and the mode are params."""
        result = parse_text(read_text("jmh/thrpt_avgt.json"))
        assert [b.params for b in result.benchmarks] == [
            {"size": "100", "mode": "thrpt"},
            {"size": "1000", "mode": "thrpt"},
            {"size": "100", "mode": "avgt"},
        ]

    def test_secondary_metrics(self) -> None:
        """-prof gc metrics keep their names and units; allocation is lower-is-better."""
        bench = parse_text(read_text("jmh/thrpt_avgt.json")).benchmarks[1]
        norm = bench.metrics["gc.alloc.rate.norm"]
        raw = THRPT[1]["secondaryMetrics"]["gc.alloc.rate.norm"]["rawData"]
        assert norm.samples == flat(raw)
        assert (norm.unit, norm.direction) == ("B/op", "lower")
        assert set(bench.metrics) == {
            "throughput",
            "gc.alloc.rate",
            "gc.alloc.rate.norm",
            "gc.count",
            "gc.time",
        }

    def test_sample_mode_histogram_means(self) -> None:
        """sample mode: each iteration's histogram mean is one sample."""
        doc = load_json("jmh/sample_ss.json")
        bench = parse_text(json.dumps(doc)).benchmarks[0]
        expected = [
            sum(v * c for v, c in it) / sum(c for _, c in it)
            for fork in doc[0]["primaryMetric"]["rawDataHistogram"]
            for it in fork
        ]
        assert bench.metrics["time"].samples == pytest.approx(expected)
        assert bench.metrics["time"].unit == "ns"

    def test_old_dot_prefix_and_single_shot(self) -> None:
        """JMH < 1.36 writes ·gc...: the dot goes; ss mode gives ms samples per fork."""
        result = parse_path(DATA / "jmh" / "sample_ss.json")
        assert "gc.alloc.rate.norm" in result.benchmarks[0].metrics
        cold = result.get("org.perflab.demo.ListBench.coldStart")
        assert cold is not None
        assert cold.metrics["time"].samples == [1.52, 1.31, 1.48, 1.29]
        assert cold.metrics["time"].unit == "ms"

    def test_one_benchmark_in_two_modes_stays_apart(self) -> None:
        """The same benchmark in avgt and sample modes gets /mode=... names."""
        doc = copy.deepcopy(THRPT)
        other = copy.deepcopy(doc[2])
        other["mode"] = "ss"
        doc.append(other)
        names = [b.name for b in parse_text(json.dumps(doc)).benchmarks]
        base = "org.perflab.demo.ListBench.linkedList/size=100"
        assert names[2:] == [f"{base}/mode=avgt", f"{base}/mode=ss"]

    def test_missing_raw_data_names_the_path(self) -> None:
        """A score without raw data is an aggregate: an error at the JSON path."""
        doc = copy.deepcopy(THRPT)
        del doc[1]["primaryMetric"]["rawData"]
        with pytest.raises(FormatError, match="aggregate") as caught:
            parse_text(json.dumps(doc), "jmh")
        assert caught.value.where == "$[1].primaryMetric.rawData"

    def test_meta_has_jmh_and_jvm_versions(self) -> None:
        """jmhVersion and the JVM are kept in meta."""
        meta = parse_text(read_text("jmh/thrpt_avgt.json")).meta
        assert meta["version"] == "1.37"
        assert meta["context"]["jdkVersion"] == "17.0.9"
