"""Criterion.rs results: ``target/criterion/<id>/new/{benchmark,sample,estimates}.json``.

``sample.json`` holds Criterion's measured samples: ``times[i]`` nanoseconds for
``iters[i]`` iterations, so each sample of "time" is ``times[i] / iters[i]`` ns (lower).
``benchmark.json`` names the benchmark (``full_id`` like ``sort/64``), gives
``value_str`` (params ``{"value": "64"}``) and the throughput, from which each sample
also yields "bytes_per_second" (B/s) or "items_per_second" (items/s), higher. Without a
``sample.json``, the point estimate of ``estimates.json`` (slope, else mean) is the one
sample, listed in ``meta["summarized"]``.

:func:`collect` is the only I/O (walking a directory); the rest is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePath

from perflab.errors import FormatError, InputError
from perflab.formats._common import Collector, clean_text
from perflab.formats._json import JsonReader, child, load
from perflab.limits import MAX_RESULT_BYTES, read_limited
from perflab.model import ResultSet

NAME = "criterion"
KINDS = ("benchmark", "sample", "estimates")
_THROUGHPUT = {
    "Bytes": ("bytes_per_second", "B/s"),
    "BytesDecimal": ("bytes_per_second", "B/s"),
    "Elements": ("items_per_second", "items/s"),
}
# The metric names this format can produce, primary first; no others.
METRICS: tuple[str, ...] = ("time", *dict.fromkeys(metric for metric, _ in _THROUGHPUT.values()))
OPEN_ENDED = False


@dataclass
class BenchFiles:
    """The decoded JSON files of one benchmark's ``new/`` directory."""

    default_id: str
    data: dict[str, object] = field(default_factory=dict)  # kind -> decoded JSON
    sources: dict[str, str] = field(default_factory=dict)  # kind -> file path


def kind_of(data: object) -> str | None:
    """Which Criterion file this decoded JSON is: "sample", "estimates", "benchmark"."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("iters"), list) and isinstance(data.get("times"), list):
        return "sample"
    if isinstance(data.get("mean"), dict) and "point_estimate" in data["mean"]:
        return "estimates"
    if "full_id" in data and "directory_name" in data:
        return "benchmark"
    return None


def matches(data: object) -> bool:
    """A Criterion ``sample.json`` or ``estimates.json``."""
    return kind_of(data) in ("sample", "estimates")


def from_json(data: object, source: str | None = None) -> ResultSet:
    """One file's worth: a ``sample.json`` (or ``estimates.json``) named from its path."""
    kind = kind_of(data)
    if kind not in ("sample", "estimates"):
        what = "benchmark.json holds no measurements" if kind else "not a Criterion.rs file"
        raise FormatError(
            NAME,
            f"{what}; expected new/sample.json or the target/criterion directory",
            source=source,
            where="$",
        )
    files = BenchFiles(_id_from_path(source), {kind: data}, {kind: source or ""})
    return from_files([files], source)


def from_files(benches: list[BenchFiles], source: str | None = None) -> ResultSet:
    """Build the ResultSet from the decoded files of each benchmark directory."""
    out = Collector(NAME, source, tool="Criterion.rs")
    for bench in benches:
        _add_bench(bench, out)
    return out.finish("Criterion.rs results (new/sample.json)")


def collect(root: Path) -> list[BenchFiles]:
    """Read every ``new/`` directory under ``root`` (``target/criterion`` or below)."""
    news = [root] if root.name == "new" else sorted(p for p in root.rglob("new") if p.is_dir())
    if (root / "new").is_dir() and root / "new" not in news:
        news.insert(0, root / "new")
    benches = [_read_new(new, root) for new in news]
    found = [b for b in benches if "sample" in b.data or "estimates" in b.data]
    if not found:
        raise FormatError(
            NAME, "no Criterion.rs results (*/new/sample.json) in this directory", source=str(root)
        )
    return found


def _read_new(new: Path, root: Path) -> BenchFiles:
    bench = BenchFiles(_dir_id(new.parent, root))
    for kind in KINDS:
        path = new / f"{kind}.json"
        if path.is_file():
            try:
                text = read_limited(path, MAX_RESULT_BYTES).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(NAME, f"cannot read: {exc}", source=str(path)) from None
            except InputError as exc:
                raise FormatError(NAME, exc.message, source=str(path)) from None
            bench.data[kind] = load(text, NAME, str(path))
            bench.sources[kind] = str(path)
    return bench


def _dir_id(bench_dir: Path, root: Path) -> str:
    """The benchmark id from its directory, relative to the ``criterion`` directory."""
    parts = bench_dir.resolve().parts
    if "criterion" in parts:
        index = len(parts) - 1 - parts[::-1].index("criterion")
        if index < len(parts) - 1:
            return "/".join(parts[index + 1 :])
    rel = bench_dir.relative_to(root) if bench_dir != root else PurePath(root.name)
    return rel.as_posix()


def _id_from_path(source: str | None) -> str:
    if not source:
        return "benchmark"
    path = PurePath(source)
    bench_dir = path.parent.parent if path.parent.name == "new" else path.parent
    parts = bench_dir.parts
    if "criterion" in parts[:-1]:
        index = len(parts) - 1 - parts[::-1].index("criterion")
        return "/".join(parts[index + 1 :])
    return bench_dir.name or "benchmark"


def _add_bench(bench: BenchFiles, out: Collector) -> None:
    info = bench.data.get("benchmark")
    read = JsonReader(NAME, bench.sources.get("benchmark"))
    meta = read.mapping(info, "$") if info is not None else {}
    name = clean_text(meta.get("full_id")) or bench.default_id
    value = meta.get("value_str")
    params = {"value": clean_text(value)} if value is not None else {}
    times = _times(bench, name, out)
    out.add(name, "time", times, "ns", "lower", params=params)
    _throughput(meta.get("throughput"), name, times, read, out)


def _times(bench: BenchFiles, name: str, out: Collector) -> list[float]:
    if "sample" in bench.data:
        return _samples(bench.data["sample"], JsonReader(NAME, bench.sources["sample"]))
    read = JsonReader(NAME, bench.sources.get("estimates"))
    estimates = read.mapping(bench.data["estimates"], "$")
    key = "slope" if isinstance(estimates.get("slope"), dict) else "mean"
    estimate = read.mapping(read.field(estimates, key, "$"), child("$", key))
    point = read.field(estimate, "point_estimate", child("$", key))
    out.meta.setdefault("summarized", []).append(name)
    return [read.number(point, child(child("$", key), "point_estimate"))]


def _samples(data: object, read: JsonReader) -> list[float]:
    sample = read.mapping(data, "$")
    iters = read.numbers(read.field(sample, "iters", "$"), "$.iters")
    times = read.numbers(read.field(sample, "times", "$"), "$.times")
    if len(iters) != len(times):
        raise read.error("$.times", f"{len(times)} times for {len(iters)} iteration counts")
    if not times:
        raise read.error("$.times", "no samples")
    for index, count in enumerate(iters):
        if count <= 0:
            raise read.error(child("$.iters", index), f"expected a positive count, got {count}")
    return [t / n for t, n in zip(times, iters, strict=True)]


def _throughput(
    raw: object, name: str, times: list[float], read: JsonReader, out: Collector
) -> None:
    if not isinstance(raw, dict) or len(raw) != 1:
        return
    kind, amount = next(iter(raw.items()))
    if kind not in _THROUGHPUT:
        return
    per_op = read.number(amount, child("$.throughput", kind))
    metric, unit = _THROUGHPUT[kind]
    if all(t > 0 for t in times):
        out.add(name, metric, [per_op / (t * 1e-9) for t in times], unit, "higher")
