"""pytest-benchmark JSON (``--benchmark-json=FILE``, or a ``--benchmark-save`` file).

Each entry of ``benchmarks`` is one benchmark named by its test name (``test_sort[16]``;
the full node id when two tests share a name). With per-round data (``stats.data``: always
in ``--benchmark-json``, in saved files with ``--benchmark-save-data``) every round is one
sample of "time" (seconds per iteration, lower). Without it only the summary is known: the
median becomes the one sample of this run, and ``meta["summarized"]`` lists those
benchmarks. ``params`` of parametrized tests become params.
"""

from __future__ import annotations

import json
from typing import Any

from perflab.formats._common import Collector, clean_text, unique_names
from perflab.formats._json import JsonReader, child
from perflab.model import ResultSet

NAME = "pytest-benchmark"
# The metric names this format can produce; no others.
METRICS: tuple[str, ...] = ("time",)
OPEN_ENDED = False
_MACHINE_KEYS = (
    "node",
    "processor",
    "machine",
    "python_implementation",
    "python_version",
    "release",
    "system",
)


def matches(data: object) -> bool:
    """A mapping with a "benchmarks" list whose entries carry "stats" (or machine_info)."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        return False
    rows = data["benchmarks"]
    if rows and isinstance(rows[0], dict):
        return "stats" in rows[0]
    return "machine_info" in data


def from_json(data: object, source: str | None = None) -> ResultSet:
    """Build the ResultSet from a decoded pytest-benchmark JSON document."""
    read = JsonReader(NAME, source)
    out = Collector(NAME, source, tool="pytest-benchmark")
    doc = read.mapping(data, "$")
    rows = read.items(read.field(doc, "benchmarks", "$"), "$.benchmarks")
    entries = [read.mapping(raw, child("$.benchmarks", i)) for i, raw in enumerate(rows)]
    names = _names(entries, read)
    for index, (entry, name) in enumerate(zip(entries, names, strict=True)):
        _add_entry(entry, name, child("$.benchmarks", index), read, out)
    _meta(doc, out)
    return out.finish("benchmarks")


def _names(entries: list[dict[str, Any]], read: JsonReader) -> list[str]:
    names = [
        read.text(
            read.field(e, "name", child("$.benchmarks", i)), child(child("$.benchmarks", i), "name")
        )
        for i, e in enumerate(entries)
    ]
    if len(set(names)) == len(names):
        return names
    full = [clean_text(e.get("fullname")) or n for e, n in zip(entries, names, strict=True)]
    return unique_names(full, [f"#{i + 1}" for i in range(len(full))])


def _add_entry(
    entry: dict[str, Any], name: str, path: str, read: JsonReader, out: Collector
) -> None:
    stats_path = child(path, "stats")
    stats = read.mapping(read.field(entry, "stats", path), stats_path)
    params = _params(entry.get("params"), child(path, "params"), read)
    data = stats.get("data")
    if data is not None:
        samples = read.numbers(data, child(stats_path, "data"))
        where = child(stats_path, "data")
    else:
        samples = [
            read.number(read.field(stats, "median", stats_path), child(stats_path, "median"))
        ]
        where = child(stats_path, "median")
        out.meta.setdefault("summarized", []).append(name)
    if not samples:
        raise read.error(where, "no rounds recorded")
    out.add(name, "time", samples, "s", "lower", params=params, where=where)


def _params(raw: object, path: str, read: JsonReader) -> dict[str, str]:
    if raw is None:
        return {}
    found = read.mapping(raw, path)
    return {str(k): v if isinstance(v, str) else _text(v) for k, v in found.items()}


def _text(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return clean_text(value)


def _meta(doc: dict[str, Any], out: Collector) -> None:
    if isinstance(doc.get("version"), str):
        out.meta["version"] = doc["version"]
    context: dict[str, Any] = {}
    if isinstance(doc.get("datetime"), str):
        context["date"] = doc["datetime"]
    machine = doc.get("machine_info")
    if isinstance(machine, dict):
        context.update({k: machine[k] for k in _MACHINE_KEYS if k in machine})
        cpu = machine.get("cpu")
        if isinstance(cpu, dict):
            context["cpu"] = {k: cpu[k] for k in ("brand_raw", "count", "arch") if k in cpu}
    commit = doc.get("commit_info")
    if isinstance(commit, dict):
        context["commit"] = {k: commit[k] for k in ("id", "branch", "dirty", "time") if k in commit}
    if context:
        out.meta["context"] = context
    if "summarized" in out.meta:
        out.meta["note"] = (
            "no per-round data: one sample (the median) per benchmark; "
            "save with --benchmark-save-data or use --benchmark-json"
        )
