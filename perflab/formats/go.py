"""Go's ``go test -bench`` text output (also wrapped in ``go test -json`` events).

One result line is one sample of each metric on it::

    BenchmarkSort/n=16-2   2000   200.3 ns/op   639.18 MB/s   152 B/op   2 allocs/op

``-count N`` repeats the line (N samples). The ``-2`` suffix is GOMAXPROCS: it is stripped
from the name and kept as ``params["gomaxprocs"]`` (Go omits it when GOMAXPROCS is 1). When
``-cpu 1,2`` runs the same benchmark at several GOMAXPROCS values, the names keep a
``-N`` suffix (``BenchmarkJoin-1``, ``BenchmarkJoin-2``) so the runs stay apart.
Sub-benchmark parts ``name=value`` become params; other parts ``arg<position>``. When
``go test ./...`` reports the same benchmark name in several packages, the names are
prefixed with the package (``example.com/a.BenchmarkX``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from perflab.errors import FormatError
from perflab.formats._common import Collector, direction_for, params_from_name
from perflab.model import Direction, ResultSet

NAME = "go"

_RESULT = re.compile(r"(Benchmark\S*)\s+(\d+)(?:\s+(.*?))?\s*$")
_PROCS = re.compile(r"(.+)-(\d+)")
_CONTEXT = re.compile(r"(goos|goarch|pkg|cpu):\s*(.*?)\s*$")
_FAILED = re.compile(r"--- FAIL: (\S+)")

# Go's built-in units -> (metric, unit, direction).
KNOWN_UNITS: dict[str, tuple[str, str, Direction]] = {
    "ns/op": ("time", "ns", "lower"),
    "MB/s": ("bytes_per_second", "MB/s", "higher"),
    "B/op": ("bytes_per_op", "B", "lower"),
    "allocs/op": ("allocs_per_op", "count", "lower"),
}
# Go's own metric names, primary first; b.ReportMetric units add names of their own.
METRICS: tuple[str, ...] = tuple(metric for metric, _, _ in KNOWN_UNITS.values())
OPEN_ENDED = True


@dataclass
class _Line:
    number: int
    text: str
    ends_line: bool = True


@dataclass
class _Record:
    line: int
    base: str
    procs: str
    pairs: list[tuple[float, str]]
    pkg: str = ""


def matches_text(text: str) -> bool:
    """Does ``text`` hold at least one Go benchmark result line?"""
    return any(_RESULT.match(line.text) for line in _safe_lines(text))


def parse(text: str, source: str | None = None) -> ResultSet:
    """Parse ``go test -bench`` output (plain or ``-json``) into a ResultSet."""
    out = Collector(NAME, source, tool="go test")
    records = _records(_lines(text, out), out)
    _emit(records, out)
    return out.finish("benchmark result lines (Benchmark... N ... ns/op)")


def metric_for(unit: str) -> tuple[str, str, Direction]:
    """Metric name, unit and direction of a Go unit (custom units keep their name)."""
    return KNOWN_UNITS.get(unit) or (unit, unit, direction_for(unit))


def _safe_lines(text: str) -> list[_Line]:
    try:
        return _lines(text, Collector(NAME, None))
    except FormatError:
        return []


def _lines(text: str, out: Collector) -> list[_Line]:
    first = text.lstrip()[:1]
    if first == "{" and is_event(text.lstrip().split("\n", 1)[0]):
        return _event_lines(text, out)
    lines = [_Line(i, t) for i, t in enumerate(text.split("\n"), start=1)]
    if lines and lines[-1].text == "":
        lines.pop()
    elif lines:
        lines[-1].ends_line = False
    return lines


def is_event(line: str) -> bool:
    """Is ``line`` one `go test -json` event (an object with an "Action")?"""
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(event, dict) and "Action" in event


def _event_lines(text: str, out: Collector) -> list[_Line]:
    """Re-assemble the test output from ``go test -json`` events (line = event's line)."""
    lines: list[_Line] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        output = _event_output(raw, number, out)
        if not buffer:
            start = number
        buffer += output
        *done, buffer = buffer.split("\n")
        lines.extend(_Line(start if i == 0 else number, t) for i, t in enumerate(done))
        if done:
            start = number
    if buffer:
        lines.append(_Line(start, buffer, ends_line=False))
    return lines


def _event_output(raw: str, number: int, out: Collector) -> str:
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        raise out.error(
            "a go test -json event is not valid JSON (cut off?)", f"line {number}"
        ) from None
    if not isinstance(event, dict):
        raise out.error("expected a go test -json event object", f"line {number}")
    output = event.get("Output")
    return output if isinstance(output, str) else ""


def _records(lines: list[_Line], out: Collector) -> list[_Record]:
    records: list[_Record] = []
    units_seen: dict[str, tuple[int, list[str]]] = {}
    pkg = ""
    for line in lines:
        where = f"line {line.number}"
        if not line.ends_line and _starts_benchmark(line.text):
            raise out.error(
                "the benchmark line has no end of line: the output looks cut off", where
            )
        match = _RESULT.match(line.text)
        if match is None:
            pkg = _note_context(line.text, out) or pkg
            continue
        pairs = _pairs(match.group(3) or "", out, where)
        _check_units(f"{pkg} {match.group(1)}", line.number, [u for _, u in pairs], units_seen, out)
        base, procs = _split_procs(match.group(1))
        records.append(_Record(line.number, base, procs, pairs, pkg))
    return records


def _starts_benchmark(text: str) -> bool:
    """A line that is, or was cut from, a benchmark line ("Bench", "BenchmarkSort/n=1")."""
    return text.startswith("Benchmark") or (len(text) >= 2 and "Benchmark".startswith(text))


def _pairs(rest: str, out: Collector, where: str) -> list[tuple[float, str]]:
    fields = rest.split()
    if not fields or len(fields) % 2:
        raise out.error(
            "expected value-unit pairs (like 12.5 ns/op) after the iteration "
            f"count, got {rest.strip()!r}",
            where,
        )
    pairs: list[tuple[float, str]] = []
    for value, unit in zip(fields[::2], fields[1::2], strict=True):
        try:
            pairs.append((float(value), unit))
        except ValueError:
            raise out.error(f"expected a number before {unit!r}, got {value!r}", where) from None
    return pairs


def _check_units(
    name: str, number: int, units: list[str], seen: dict[str, tuple[int, list[str]]], out: Collector
) -> None:
    """Every line of one benchmark carries the same units; fewer means a damaged line."""
    first = seen.setdefault(name, (number, units))
    if first[1] != units:
        name = name.split(" ", 1)[1]
        raise out.error(
            f"{name} reports {' '.join(units)} but line {first[0]} reported "
            f"{' '.join(first[1])}: damaged or mixed output",
            f"line {number}",
        )


def _split_procs(name: str) -> tuple[str, str]:
    match = _PROCS.fullmatch(name)
    return (match.group(1), match.group(2)) if match else (name, "1")


def _note_context(text: str, out: Collector) -> str | None:
    """Keep goos/goarch/pkg/cpu and failures in meta; return the package of a pkg: line."""
    context = _CONTEXT.match(text)
    if context:
        values = out.meta.setdefault("context", {})
        key, value = context.group(1), context.group(2)
        if key in values and values[key] != value:
            previous = values[key] if isinstance(values[key], list) else [values[key]]
            value = [*previous, value] if value not in previous else previous
        values[key] = value
    failed = _FAILED.match(text)
    if failed:
        out.meta.setdefault("failed", []).append(failed.group(1))
    return context.group(2) if context and context.group(1) == "pkg" else None


def _emit(records: list[_Record], out: Collector) -> None:
    procs_of: dict[str, set[str]] = {}
    pkgs_of: dict[str, set[str]] = {}
    for record in records:
        procs_of.setdefault(record.base, set()).add(record.procs)
        pkgs_of.setdefault(record.base, set()).add(record.pkg)
    for record in records:
        several = len(procs_of[record.base]) > 1
        name = f"{record.base}-{record.procs}" if several else record.base
        if len(pkgs_of[record.base]) > 1:
            name = f"{record.pkg}.{name}"
        params = {**params_from_name(record.base, "="), "gomaxprocs": record.procs}
        for value, unit in record.pairs:
            metric, metric_unit, direction = metric_for(unit)
            out.add(
                name,
                metric,
                [value],
                metric_unit,
                direction,
                params=params,
                where=f"line {record.line}",
            )
