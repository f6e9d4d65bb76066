"""perflab's own JSON: what `perflab parse --json` writes reads back unchanged."""

from __future__ import annotations

import json

import pytest
from formats_data import DATA
from hypothesis import given
from hypothesis import strategies as st

from perflab.errors import FormatError
from perflab.formats import parse_path, parse_text
from perflab.model import Benchmark, Metric, ResultSet

_text = st.text(min_size=1, max_size=12)
_metric = st.builds(
    Metric,
    unit=st.sampled_from(["ns", "s", "B/s", "count", "ops/s"]),
    direction=st.sampled_from(["lower", "higher"]),
    samples=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=5),
)
_bench = st.builds(
    Benchmark,
    name=_text,
    params=st.dictionaries(_text, st.text(max_size=8), max_size=3),
    metrics=st.dictionaries(_text, _metric, min_size=1, max_size=3),
)
_results = st.builds(
    ResultSet,
    benchmarks=st.lists(_bench, min_size=1, max_size=4, unique_by=lambda b: b.name),
    meta=st.dictionaries(_text, st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
)


class TestParsePerflab:
    @given(_results)
    def test_roundtrip(self, result: ResultSet) -> None:
        """to_dict -> JSON -> parse_text (auto-detected) gives the same document back."""
        text = json.dumps(result.to_dict())
        assert parse_text(text).to_dict() == result.to_dict()
        assert parse_text(text, "perflab").to_dict() == result.to_dict()

    def test_other_formats_roundtrip_through_it(self) -> None:
        """A parsed Go run, saved as perflab JSON, reads back identical."""
        result = parse_path(DATA / "go" / "bench.txt")
        again = parse_text(json.dumps(result.to_dict()), source="saved.json")
        assert again.to_dict() == result.to_dict()

    def test_run_documents_are_read(self) -> None:
        """A run document (benchmarks beside run_id, environment ...) reads its benchmarks."""
        doc = parse_path(DATA / "hyperfine" / "list.json").to_dict()
        doc.update(run_id=7, runner="local", environment={"load": [0.1, 0.2, 0.3]})
        assert len(parse_text(json.dumps(doc)).benchmarks) == 2

    def test_bad_sample_names_the_path(self) -> None:
        """A sample that is not a number is reported at its JSON path."""
        doc = parse_path(DATA / "hyperfine" / "list.json").to_dict()
        doc["benchmarks"][1]["metrics"]["time"]["samples"][2] = "slow"
        with pytest.raises(FormatError) as caught:
            parse_text(json.dumps(doc))
        assert caught.value.format == "perflab"
        assert caught.value.where == "$.benchmarks[1].metrics.time.samples[2]"

    def test_newer_schema_is_refused(self) -> None:
        """A document from a newer perflab says to upgrade instead of misreading it."""
        doc = parse_path(DATA / "hyperfine" / "list.json").to_dict()
        doc["schema"] = "perflab-result/9"
        with pytest.raises(FormatError, match="upgrade") as caught:
            parse_text(json.dumps(doc))
        assert caught.value.where == "$.schema"

    def test_meta_must_be_a_mapping(self) -> None:
        """meta that is not a mapping is an error, not a crash."""
        doc = parse_path(DATA / "hyperfine" / "list.json").to_dict()
        doc["meta"] = ["x"]
        with pytest.raises(FormatError) as caught:
            parse_text(json.dumps(doc), "perflab")
        assert caught.value.where == "$.meta"

    def test_no_benchmarks_is_an_error(self) -> None:
        """An empty benchmarks list is not an empty success."""
        with pytest.raises(FormatError, match="no benchmarks"):
            parse_text('{"schema": "perflab-result/1", "benchmarks": []}')
