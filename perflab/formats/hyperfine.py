"""hyperfine JSON (``hyperfine --export-json FILE ...``).

Each entry of ``results`` is one benchmark named by its ``command`` (or ``--command-name``);
every run in ``times`` is one sample of "time" (seconds, lower). ``parameters`` (from
``--parameter-scan`` / ``-L``) become params. ``mean``, ``stddev``, ``user`` and ``system``
are summaries, not samples; per-run ``memory_usage_byte`` (newer hyperfine) becomes
"max_rss" (B, lower). Runs with a non-zero exit code (``--ignore-failure``) are counted in
``meta["failed_runs"]``.
"""

from __future__ import annotations

from typing import Any

from perflab.formats._common import Collector, clean_text, unique_names
from perflab.formats._json import JsonReader, child
from perflab.model import ResultSet

NAME = "hyperfine"
# The metric names this format can produce, primary first; no others.
METRICS: tuple[str, ...] = ("time", "max_rss")
OPEN_ENDED = False


def matches(data: object) -> bool:
    """A mapping with a "results" list of entries that have a "command"."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return False
    rows = data["results"]
    return not rows or (isinstance(rows[0], dict) and "command" in rows[0])


def from_json(data: object, source: str | None = None) -> ResultSet:
    """Build the ResultSet from a decoded hyperfine export."""
    read = JsonReader(NAME, source)
    out = Collector(NAME, source, tool="hyperfine")
    doc = read.mapping(data, "$")
    rows = read.items(read.field(doc, "results", "$"), "$.results")
    entries = [read.mapping(raw, child("$.results", i)) for i, raw in enumerate(rows)]
    commands = [
        read.text(
            read.field(e, "command", child("$.results", i)), child(child("$.results", i), "command")
        )
        for i, e in enumerate(entries)
    ]
    names = unique_names(commands, [f"#{i + 1}" for i in range(len(commands))])
    for index, (entry, name) in enumerate(zip(entries, names, strict=True)):
        _add_entry(entry, name, child("$.results", index), read, out)
    return out.finish("benchmark results")


def _add_entry(
    entry: dict[str, Any], name: str, path: str, read: JsonReader, out: Collector
) -> None:
    if "times" not in entry:
        raise read.error(
            child(path, "times"),
            "no per-run times (only summaries, which are "
            "not samples); export with hyperfine 1.6 or newer",
        )
    times = read.numbers(entry["times"], child(path, "times"))
    params = _params(entry, path, read)
    out.add(name, "time", times, "s", "lower", params=params, where=child(path, "times"))
    memory = entry.get("memory_usage_byte")
    if isinstance(memory, list):
        rss = read.numbers(memory, child(path, "memory_usage_byte"))
        out.add(name, "max_rss", rss, "B", "lower", where=child(path, "memory_usage_byte"))
    codes = entry.get("exit_codes")
    if isinstance(codes, list) and any(c not in (0, None) for c in codes):
        out.meta.setdefault("failed_runs", {})[name] = sum(c not in (0, None) for c in codes)


def _params(entry: dict[str, Any], path: str, read: JsonReader) -> dict[str, str]:
    raw = entry.get("parameters")
    if raw is None:
        return {}
    found = read.mapping(raw, child(path, "parameters"))
    return {str(k): clean_text(v) for k, v in found.items()}
