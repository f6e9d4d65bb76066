"""The registry: FORMATS, detect, parse_text and parse_path across every format."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from formats_data import CRITERION, DATA, read_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perflab.errors import FormatError, InputError
from perflab.formats import FORMATS, detect, parse_path, parse_text

# Every real output file and the format auto-detection must find.
SAMPLES = {
    "go/bench.txt": "go",
    "go/cpu.txt": "go",
    "go/test2json.json": "go",
    "go/truncated.txt": "go",
    "gbench/repetitions.json": "gbench",
    "gbench/single.json": "gbench",
    "gbench/aggregates_only.json": "gbench",
    "gbench/truncated.json": "gbench",
    "hyperfine/commands.json": "hyperfine",
    "hyperfine/list.json": "hyperfine",
    "hyperfine/scan.json": "hyperfine",
    "pytest-benchmark/data.json": "pytest-benchmark",
    "pytest-benchmark/saved-data.json": "pytest-benchmark",
    "pytest-benchmark/saved-stats.json": "pytest-benchmark",
    "criterion/target/criterion/sort/64/new/sample.json": "criterion",
    "criterion/target/criterion/sort/64/new/estimates.json": "criterion",
    "jmh/thrpt_avgt.json": "jmh",
    "jmh/sample_ss.json": "jmh",
}
GOOD = [f for f in SAMPLES if "truncated" not in f and "aggregates" not in f]
JSON_GOOD = [f for f in GOOD if f.endswith(".json") and not f.startswith("go/")]


class TestFormats:
    def test_names(self) -> None:
        """The format names the CLI and job files use."""
        assert FORMATS == (
            "auto",
            "time",
            "go",
            "gbench",
            "hyperfine",
            "pytest-benchmark",
            "criterion",
            "jmh",
            "perflab",
        )

    def test_import_stays_light(self) -> None:
        """Importing perflab.formats pulls in no heavy library (numpy, scipy ...)."""
        code = (
            "import sys, perflab.formats; "
            "print(sorted(m for m in ('numpy', 'scipy', 'sqlalchemy', 'yaml') "
            "if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"


class TestDetect:
    @pytest.mark.parametrize(("file", "fmt"), sorted(SAMPLES.items()))
    def test_every_real_output(self, file: str, fmt: str) -> None:
        """Each tool's real output (also cut off or aggregate-only) is recognised."""
        assert detect(read_text(file)) == fmt

    def test_perflab_json(self) -> None:
        """perflab's own JSON is recognised."""
        text = json.dumps(parse_path(DATA / "go" / "bench.txt").to_dict())
        assert detect(text) == "perflab"

    def test_unknown_text_lists_what_was_tried(self) -> None:
        """Nothing recognisable: the error lists every format tried."""
        with pytest.raises(FormatError) as caught:
            detect("hello world\n", source="out.txt")
        message = str(caught.value)
        assert caught.value.format == "auto"
        assert "out.txt" in message
        for fmt in FORMATS[2:]:
            assert fmt in message

    def test_unknown_json_lists_what_was_tried(self) -> None:
        """JSON of no known shape names the JSON formats tried."""
        with pytest.raises(FormatError, match="gbench, pytest-benchmark"):
            detect('{"answer": 42}')

    def test_empty_input(self) -> None:
        """Empty output is an error, not an empty result."""
        with pytest.raises(FormatError, match="empty"):
            detect("  \n")


class TestParseText:
    @pytest.mark.parametrize("file", GOOD)
    def test_auto_equals_the_named_format(self, file: str) -> None:
        """auto gives the same result as naming the format."""
        text = read_text(file)
        assert parse_text(text).to_dict() == parse_text(text, SAMPLES[file]).to_dict()

    @pytest.mark.parametrize("file", GOOD)
    def test_every_metric_has_samples_unit_direction(self, file: str) -> None:
        """The normalized shape holds for every real output."""
        result = parse_text(read_text(file), source=file)
        assert result.benchmarks
        for bench in result.benchmarks:
            for metric in bench.metrics.values():
                assert metric.samples and metric.unit
                assert metric.direction in ("lower", "higher")
        assert result.meta["source"] == file

    @pytest.mark.parametrize("file", JSON_GOOD)
    def test_truncated_json_names_the_format(self, file: str) -> None:
        """Any real JSON output cut in half fails naming its own format and a line."""
        text = read_text(file)
        with pytest.raises(FormatError, match="cut off") as caught:
            parse_text(text[: len(text) // 2])
        assert caught.value.format == SAMPLES[file]
        assert (caught.value.where or "").startswith("line ")

    @pytest.mark.parametrize(
        ("file", "forced"),
        [
            ("gbench/repetitions.json", "pytest-benchmark"),
            ("pytest-benchmark/data.json", "hyperfine"),
            ("hyperfine/list.json", "jmh"),
            ("jmh/thrpt_avgt.json", "gbench"),
            ("go/bench.txt", "gbench"),
        ],
    )
    def test_wrong_format_says_what_it_looks_like(self, file: str, forced: str) -> None:
        """Forcing the wrong format fails with the forced name and the likely one."""
        with pytest.raises(FormatError, match=f"looks like {SAMPLES[file]}") as caught:
            parse_text(read_text(file), forced)
        assert caught.value.format == forced

    def test_unknown_format_name(self) -> None:
        """A format name that does not exist lists the ones that do."""
        with pytest.raises(FormatError, match="pytest-benchmark"):
            parse_text("x", "junit")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(sorted(SAMPLES)), st.data())
    def test_any_prefix_parses_or_fails_cleanly(self, file: str, data: st.DataObject) -> None:
        """Output cut anywhere gives a result or a FormatError, never another exception."""
        text = read_text(file)
        cut = data.draw(st.integers(min_value=0, max_value=len(text)))
        with contextlib.suppress(FormatError):
            parse_text(text[:cut])

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(JSON_GOOD), st.data())
    def test_any_changed_value_parses_or_fails_cleanly(
        self, file: str, data: st.DataObject
    ) -> None:
        """One JSON value replaced by anything gives a result or a FormatError."""
        doc = json.loads(read_text(file))
        node, key = _pick(doc, data)
        node[key] = data.draw(_json_values)
        for fmt in ("auto", SAMPLES[file]):
            with contextlib.suppress(FormatError):
                parse_text(json.dumps(doc), fmt)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


def _pick(doc: Any, data: st.DataObject) -> tuple[Any, Any]:
    """A random container in ``doc`` and one of its keys (walking down a random path)."""
    node = doc
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return node, 0 if isinstance(node, list) else "x"
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, dict | list) or data.draw(st.booleans()):
            return node, key
        node = child


class TestParsePath:
    def test_file(self) -> None:
        """A file is read and parsed; its path is the source in meta and messages."""
        path = DATA / "hyperfine" / "list.json"
        assert parse_path(path).meta["source"] == str(path)

    def test_criterion_directory(self) -> None:
        """A directory is a Criterion tree."""
        assert len(parse_path(CRITERION).benchmarks) == 4

    def test_missing_file(self, tmp_path: Path) -> None:
        """A file that cannot be read is an input error naming it, not a traceback."""
        with pytest.raises(InputError, match="no such file") as caught:
            parse_path(tmp_path / "nope.json")
        assert "nope.json" in str(caught.value)

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Bytes that are not UTF-8 do not crash the parser."""
        path = tmp_path / "out.txt"
        path.write_bytes((DATA / "go" / "bench.txt").read_bytes().replace(b"AMD", b"\xff\xfe"))
        assert len(parse_path(path).benchmarks) == 4
