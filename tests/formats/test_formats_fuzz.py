"""Fuzzing every format parser: any input gives a result of finite samples, or a perflab
error (FormatError, an InputError), never another exception.

Three kinds of input: arbitrary text; real outputs (tests/data/formats) with lines or JSON
values replaced by hostile ones (NaN, infinities, huge integers, deep nesting, control
characters); and real outputs cut anywhere. Examples are derandomized so a run is
repeatable, and there is no deadline (this machine's speed varies by 1.7x).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from formats_data import read_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perflab.errors import FormatError, PerflabError
from perflab.formats import FORMATS, parse_text
from perflab.model import ResultSet

PARSED = [f for f in FORMATS if f != "time"]
TEXT_SAMPLES = ["go/bench.txt", "go/cpu.txt", "go/test2json.json"]
JSON_SAMPLES = [
    "gbench/repetitions.json",
    "gbench/single.json",
    "hyperfine/list.json",
    "hyperfine/scan.json",
    "pytest-benchmark/data.json",
    "pytest-benchmark/saved-stats.json",
    "criterion/target/criterion/sort/64/new/sample.json",
    "criterion/target/criterion/sort/64/new/estimates.json",
    "jmh/thrpt_avgt.json",
    "jmh/sample_ss.json",
]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_hostile_numbers = st.sampled_from(
    [math.nan, math.inf, -math.inf, 10**400, -(10**400), 1e308, -0.0, 0, 2**63, 5e-324]
)
_hostile_text = st.sampled_from(
    [
        "",
        "\x00",
        "NaN",
        "Infinity",
        "-inf",
        "1e999",
        "9" * 400,
        "ns/op",
        "\u2028",
        "\ud800",
        "[" * 50,
        "💥",
        "%",
    ]
)
_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=8)
    | _hostile_numbers
    | _hostile_text
)
_json_values = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | _hostile_text, inner, max_size=4)
    ),
    max_leaves=8,
)
_words = (
    st.text(max_size=12)
    | _hostile_text
    | _hostile_numbers.map(str)
    | st.sampled_from(
        [
            "Benchmark",
            "BenchmarkX-8",
            "ok",
            "PASS",
            "goos:",
            "pkg:",
            "B/op",
            "allocs/op",
            "MB/s",
            "\t",
            " ",
            "{",
            "}",
            '"Action":"output"',
        ]
    )
)


def parse_or_refuse(text: str, fmt: str) -> ResultSet | None:
    """The result (every sample a finite float), or None when a perflab error refused it."""
    try:
        result = parse_text(text, fmt, source="fuzz")
    except PerflabError:
        return None
    for bench in result.benchmarks:
        for metric in bench.metrics.values():
            assert all(isinstance(v, float) and math.isfinite(v) for v in metric.samples), (
                bench.name,
                metric.samples[:5],
            )
    return result


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


def _put(node: Any, key: Any, value: Any) -> None:
    if isinstance(node, list) and key >= len(node):
        node.append(value)
    else:
        node[key] = value


class TestAnyText:
    @FUZZ
    @given(st.sampled_from(PARSED), st.text(max_size=300) | st.lists(_words).map(" ".join))
    def test_arbitrary_text(self, fmt: str, text: str) -> None:
        """Random text, in every format and in auto-detection."""
        parse_or_refuse(text, fmt)

    @FUZZ
    @given(st.sampled_from(PARSED), _json_values)
    def test_arbitrary_json(self, fmt: str, value: Any) -> None:
        """Any JSON document (NaN and Infinity literals included)."""
        parse_or_refuse(json.dumps(value), fmt)


class TestChangedRealOutputs:
    @FUZZ
    @given(st.sampled_from(JSON_SAMPLES), st.data())
    def test_json_values_replaced(self, file: str, data: st.DataObject) -> None:
        """Up to three values of a real output replaced by hostile ones."""
        doc = json.loads(read_text(file))
        for _ in range(data.draw(st.integers(1, 3))):
            _put(*_pick(doc, data), data.draw(_json_values))
        text = json.dumps(doc)
        for fmt in ("auto", data.draw(st.sampled_from(PARSED))):
            parse_or_refuse(text, fmt)

    @FUZZ
    @given(st.sampled_from(TEXT_SAMPLES), st.data())
    def test_go_lines_changed(self, file: str, data: st.DataObject) -> None:
        """Words of a real `go test -bench` output (text or JSON events) replaced."""
        lines = read_text(file).splitlines()
        for _ in range(data.draw(st.integers(1, 4))):
            index = data.draw(st.integers(0, len(lines) - 1))
            words = lines[index].split(" ")
            spot = data.draw(st.integers(0, len(words) - 1))
            words[spot] = data.draw(_words)
            lines[index] = " ".join(words)
        text = "\n".join(lines)
        for fmt in ("auto", "go"):
            parse_or_refuse(text, fmt)

    @FUZZ
    @given(st.sampled_from(JSON_SAMPLES + TEXT_SAMPLES), st.data())
    def test_cut_anywhere(self, file: str, data: st.DataObject) -> None:
        """A real output cut anywhere, in auto-detection and in a named format."""
        text = read_text(file)
        cut = data.draw(st.integers(0, len(text)))
        parse_or_refuse(text[:cut], data.draw(st.sampled_from(PARSED)))


class TestNonFiniteSamples:
    """What the fuzzing found: samples of NaN or infinity, and integers too large for a float,
    were kept (or crashed) instead of being refused."""

    def test_gbench_infinity(self) -> None:
        """real_time: Infinity in gbench JSON is refused at its JSON path."""
        doc = json.loads(read_text("gbench/repetitions.json"))
        doc["benchmarks"][0]["real_time"] = math.inf
        with pytest.raises(FormatError, match=r"\$\.benchmarks\[0\]\.real_time.*finite"):
            parse_text(json.dumps(doc), "gbench")

    def test_go_nan(self) -> None:
        """`NaN ns/op` in go output is refused."""
        text = read_text("go/bench.txt")
        first = next(line for line in text.splitlines() if line.startswith("Benchmark"))
        words = first.split()
        changed = first.replace(f" {words[2]} ns/op", " NaN ns/op")
        with pytest.raises(FormatError, match="finite"):
            parse_text(text.replace(first, changed), "go")

    def test_perflab_huge_integer(self) -> None:
        """A sample of 10**400 in perflab JSON is refused (it was an OverflowError)."""
        doc = {
            "schema": "perflab-result/1",
            "benchmarks": [
                {
                    "name": "b",
                    "metrics": {
                        "time": {"unit": "ns", "direction": "lower", "samples": [1, 10**400]}
                    },
                }
            ],
        }
        with pytest.raises(FormatError, match=r"samples\[1\].*finite"):
            parse_text(json.dumps(doc), "perflab")


class TestDeepAndLarge:
    @pytest.mark.parametrize("fmt", PARSED)
    @pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000, "[" * 3000 + "]" * 3000])
    def test_deep_nesting(self, fmt: str, text: str) -> None:
        """Nesting far past the recursion limit is refused, not a RecursionError."""
        assert parse_or_refuse(text, fmt) is None
