"""Google Benchmark JSON (``--benchmark_format=json`` or ``--benchmark_out=FILE``).

Each ``"run_type": "iteration"`` row is one sample (one per ``--benchmark_repetitions``);
the ``mean``/``median``/``stddev``/``cv`` aggregate rows (and BigO/RMS rows) are skipped.
``real_time`` is "time" and ``cpu_time`` "cpu_time", both in the row's ``time_unit``;
``bytes_per_second`` (B/s) and ``items_per_second`` (items/s) are higher-is-better; user
counters keep their name (higher when the name says per second, else lower). Name parts
``n:64`` become params ``{"n": "64"}``, bare arguments ``arg<position>``.
"""

from __future__ import annotations

from typing import Any

from perflab.formats._common import Collector, clean_text, params_from_name, rate_like
from perflab.formats._json import JsonReader, child
from perflab.model import Direction, ResultSet

NAME = "gbench"
# Google Benchmark's own metric names, primary first; user counters add names of their own.
METRICS: tuple[str, ...] = ("time", "cpu_time", "bytes_per_second", "items_per_second")
OPEN_ENDED = True

# Row fields that are bookkeeping, not measurements.
_NOT_METRICS = frozenset(
    {
        "name",
        "family_index",
        "per_family_instance_index",
        "run_name",
        "run_type",
        "repetitions",
        "repetition_index",
        "threads",
        "iterations",
        "time_unit",
        "aggregate_name",
        "aggregate_unit",
        "error_occurred",
        "error_message",
        "label",
        "big_o",
        "rms",
        "cpu_coefficient",
        "real_coefficient",
        "real_time",
        "cpu_time",
    }
)
_FLAGS = frozenset({"real_time", "process_time", "manual_time"})
_AGGREGATE_SUFFIXES = ("_mean", "_median", "_stddev", "_cv", "_BigO", "_RMS")
_CONTEXT_KEYS = (
    "date",
    "host_name",
    "executable",
    "num_cpus",
    "mhz_per_cpu",
    "cpu_scaling_enabled",
    "load_avg",
    "library_build_type",
    "library_version",
)


def matches(data: object) -> bool:
    """A mapping with a "benchmarks" list whose rows look like Google Benchmark rows."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        return False
    rows = data["benchmarks"]
    first = rows[0] if rows else None
    if isinstance(first, dict):
        return "real_time" in first or "run_name" in first or "time_unit" in first
    return isinstance(data.get("context"), dict) and "num_cpus" in data["context"]


def from_json(data: object, source: str | None = None) -> ResultSet:
    """Build the ResultSet from a decoded Google Benchmark JSON document."""
    read = JsonReader(NAME, source)
    out = Collector(NAME, source, tool="Google Benchmark")
    doc = read.mapping(data, "$")
    rows = read.items(read.field(doc, "benchmarks", "$"), "$.benchmarks")
    aggregates = 0
    for index, raw in enumerate(rows):
        path = child("$.benchmarks", index)
        row = read.mapping(raw, path)
        if _is_aggregate(row):
            aggregates += 1
        elif row.get("error_occurred"):
            out.meta.setdefault("errors", {})[clean_text(row.get("name"))] = clean_text(
                row.get("error_message")
            )
        else:
            _add_row(row, path, read, out)
    _context(doc, out)
    if aggregates and not out.builder.result.benchmarks:
        raise out.error(
            "only aggregate rows (mean, median, stddev, cv): aggregates are not "
            "samples; run without --benchmark_report_aggregates_only",
            "$.benchmarks",
        )
    return out.finish("benchmark rows")


def _is_aggregate(row: dict[str, Any]) -> bool:
    run_type = row.get("run_type")
    if run_type is not None:
        return bool(run_type != "iteration")
    name = row.get("name")
    return (
        "aggregate_name" in row
        or "big_o" in row
        or (isinstance(name, str) and name.endswith(_AGGREGATE_SUFFIXES))
    )


def _add_row(row: dict[str, Any], path: str, read: JsonReader, out: Collector) -> None:
    name_key = "run_name" if "run_name" in row else "name"
    name = read.text(read.field(row, name_key, path), child(path, name_key))
    unit = read.text(row.get("time_unit", "ns"), child(path, "time_unit"))
    params = _params(name)
    real = read.number(read.field(row, "real_time", path), child(path, "real_time"))
    out.add(name, "time", [real], unit, "lower", params=params, where=child(path, "real_time"))
    if "cpu_time" in row:
        cpu = read.number(row["cpu_time"], child(path, "cpu_time"))
        out.add(name, "cpu_time", [cpu], unit, "lower", where=child(path, "cpu_time"))
    for key, value in row.items():
        if key in _NOT_METRICS or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        metric, metric_unit, direction = _counter(key)
        out.add(
            name,
            metric,
            [read.number(value, child(path, key))],
            metric_unit,
            direction,
            where=child(path, key),
        )


def _params(name: str) -> dict[str, str]:
    """``n:64`` -> n, bare args by position; ``real_time``-style modifiers -> flag "true"."""
    params = params_from_name(name, ":")
    for key, value in list(params.items()):
        if key.startswith("arg") and value in _FLAGS:
            del params[key]
            params[value] = "true"
    return params


def _counter(key: str) -> tuple[str, str, Direction]:
    if key == "bytes_per_second":
        return key, "B/s", "higher"
    if key == "items_per_second":
        return key, "items/s", "higher"
    return (key, "count/s", "higher") if rate_like(key) else (key, "count", "lower")


def _context(doc: dict[str, Any], out: Collector) -> None:
    context = doc.get("context")
    if isinstance(context, dict):
        out.meta["context"] = {k: context[k] for k in _CONTEXT_KEYS if k in context}
        if isinstance(context.get("library_version"), str):
            out.meta["version"] = context["library_version"]
