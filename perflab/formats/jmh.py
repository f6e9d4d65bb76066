"""JMH JSON (``java -jar benchmarks.jar -rf json -rff result.json``).

The document is a list with one entry per benchmark, mode and parameter combination.
Samples are the measurement iterations of every fork (``primaryMetric.rawData``, one list
per fork); in ``sample`` mode each iteration's histogram (``rawDataHistogram``) gives its
mean as the sample. The primary metric is "throughput" in ``thrpt`` mode (JMH's unit like
``ops/s``, higher) and "time" otherwise (``avgt``, ``sample``, ``ss``: ``us/op`` becomes
``us``, lower). Secondary metrics (``-prof gc``: ``gc.alloc.rate.norm`` ...) keep their
name without JMH's leading ``·`` and their unit; ``ops/...`` units are higher-is-better,
all others lower. JMH ``params`` and the mode become params; names are
``benchmark/param=value...`` (plus ``/mode=...`` when one benchmark ran in several modes).
"""

from __future__ import annotations

from typing import Any

from perflab.formats._common import Collector, clean_text, unique_names
from perflab.formats._json import JsonReader, child
from perflab.model import Direction, ResultSet

NAME = "jmh"
# The primary metrics (by mode); secondary metrics (-prof gc ...) add names of their own.
METRICS: tuple[str, ...] = ("time", "throughput")
OPEN_ENDED = True
_TIME_UNITS = {"ns/op": "ns", "us/op": "us", "ms/op": "ms", "s/op": "s"}
_CONTEXT_KEYS = ("jmhVersion", "jdkVersion", "vmName", "vmVersion", "jvmArgs")


def matches(data: object) -> bool:
    """A list whose first entry has "benchmark", "mode" and "primaryMetric"."""
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], dict)
        and {"benchmark", "primaryMetric"} <= data[0].keys()
    )


def from_json(data: object, source: str | None = None) -> ResultSet:
    """Build the ResultSet from a decoded JMH result list."""
    read = JsonReader(NAME, source)
    out = Collector(NAME, source, tool="JMH")
    entries = [read.mapping(raw, child("$", i)) for i, raw in enumerate(read.items(data, "$"))]
    names = _names(entries, read)
    for index, (entry, name) in enumerate(zip(entries, names, strict=True)):
        _add_entry(entry, name, child("$", index), read, out)
    if entries:
        first = entries[0]
        out.meta["context"] = {k: first[k] for k in _CONTEXT_KEYS if k in first}
        if isinstance(first.get("jmhVersion"), str):
            out.meta["version"] = first["jmhVersion"]
    return out.finish("JMH benchmark entries")


def _names(entries: list[dict[str, Any]], read: JsonReader) -> list[str]:
    names, modes = [], []
    for index, entry in enumerate(entries):
        path = child("$", index)
        base = read.text(read.field(entry, "benchmark", path), child(path, "benchmark"))
        params = _params(entry, path, read)
        names.append("/".join([base, *(f"{k}={v}" for k, v in params.items())]))
        modes.append(f"mode={_mode(entry, path, read)}")
    return unique_names(names, modes)


def _mode(entry: dict[str, Any], path: str, read: JsonReader) -> str:
    return read.text(read.field(entry, "mode", path), child(path, "mode"))


def _params(entry: dict[str, Any], path: str, read: JsonReader) -> dict[str, str]:
    raw = entry.get("params")
    if raw is None:
        return {}
    return {str(k): clean_text(v) for k, v in read.mapping(raw, child(path, "params")).items()}


def _add_entry(
    entry: dict[str, Any], name: str, path: str, read: JsonReader, out: Collector
) -> None:
    mode = _mode(entry, path, read)
    params = {**_params(entry, path, read), "mode": mode}
    primary_path = child(path, "primaryMetric")
    primary = read.mapping(read.field(entry, "primaryMetric", path), primary_path)
    unit = read.text(
        read.field(primary, "scoreUnit", primary_path), child(primary_path, "scoreUnit")
    )
    samples = _samples(primary, primary_path, read)
    if mode == "thrpt":
        out.add(name, "throughput", samples, unit, "higher", params=params, where=primary_path)
    else:
        out.add(
            name,
            "time",
            samples,
            _TIME_UNITS.get(unit, unit),
            "lower",
            params=params,
            where=primary_path,
        )
    _add_secondaries(entry, name, path, read, out)


def _add_secondaries(
    entry: dict[str, Any], name: str, path: str, read: JsonReader, out: Collector
) -> None:
    secondary = entry.get("secondaryMetrics")
    if secondary is None:
        return
    spath = child(path, "secondaryMetrics")
    for key, raw in read.mapping(secondary, spath).items():
        mpath = child(spath, key)
        metric = read.mapping(raw, mpath)
        unit = read.text(read.field(metric, "scoreUnit", mpath), child(mpath, "scoreUnit"))
        direction: Direction = "higher" if unit.startswith("ops/") else "lower"
        out.add(name, key.lstrip("·"), _samples(metric, mpath, read), unit, direction, where=mpath)


def _samples(metric: dict[str, Any], path: str, read: JsonReader) -> list[float]:
    if "rawData" in metric:
        forks = read.items(metric["rawData"], child(path, "rawData"))
        return [
            v
            for i, fork in enumerate(forks)
            for v in read.numbers(fork, child(child(path, "rawData"), i))
        ]
    if "rawDataHistogram" in metric:
        return _histogram_means(metric["rawDataHistogram"], child(path, "rawDataHistogram"), read)
    raise read.error(
        child(path, "rawData"),
        "no raw data (rawData or rawDataHistogram): the score alone is an aggregate, not a sample",
    )


def _histogram_means(raw: object, path: str, read: JsonReader) -> list[float]:
    means = []
    for f, fork in enumerate(read.items(raw, path)):
        fork_path = child(path, f)
        for i, iteration in enumerate(read.items(fork, fork_path)):
            means.append(_histogram_mean(iteration, child(fork_path, i), read))
    return means


def _histogram_mean(raw: object, path: str, read: JsonReader) -> float:
    total = count = 0.0
    for b, pair in enumerate(read.items(raw, path)):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise read.error(child(path, b), "expected a [value, count] pair")
        value, weight = read.numbers(pair, child(path, b))
        total += value * weight
        count += weight
    if count <= 0:
        raise read.error(path, "empty histogram")
    return total / count
