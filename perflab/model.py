"""The normalized result: benchmarks -> metrics -> raw samples.

This is the contract between format parsers, the store, the statistics and
every ``--json`` output (see DESIGN.md, "Normalized results")::

    {"schema": "perflab-result/1",
     "benchmarks": [
       {"name": "BM_Sort/64", "params": {"n": "64"},
        "metrics": {"time": {"unit": "ns", "direction": "lower", "samples": [23.1, 23.4]}}}]}

Samples are per repetition (or per round/iteration where the tool reports
them); aggregates a tool prints beside them are never samples. Every metric
says whether lower or higher is better.

Format history (bump ``SCHEMA`` when a reader would misread new files):
  perflab-result/1: first version.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

SCHEMA = "perflab-result/1"

Direction = Literal["lower", "higher"]
DIRECTIONS: tuple[Direction, ...] = ("lower", "higher")

# Scale of each unit to its family's base unit (seconds, bytes, bytes/s).
TIME_UNITS: dict[str, float] = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
SIZE_UNITS: dict[str, float] = {
    "B": 1.0,
    "KiB": 1024.0,
    "MiB": 1024.0**2,
    "GiB": 1024.0**3,
    "kB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
}
RATE_UNITS: dict[str, float] = {
    "B/s": 1.0,
    "KiB/s": 1024.0,
    "MiB/s": 1024.0**2,
    "GiB/s": 1024.0**3,
    "kB/s": 1e3,
    "MB/s": 1e6,
    "GB/s": 1e9,
}
_FAMILIES = (TIME_UNITS, SIZE_UNITS, RATE_UNITS)


#: Deterministic metrics, compared exactly (perflab.stats.exact): the tolerance is the
#: fraction of the baseline a change must exceed (0: any change counts, 0 -> 1 included).
#: A format or a counter source that produces another count adds it here.
EXACT_METRICS: dict[str, float] = {"allocs_per_op": 0.0, "bytes_per_op": 0.0}


def exact_tolerance(metric: str) -> float | None:
    """The tolerance of a deterministic metric, or None for a measured (noisy) one."""
    return EXACT_METRICS.get(metric)


def unit_factor(from_unit: str, to_unit: str) -> float | None:
    """Multiply a value in ``from_unit`` by this to get ``to_unit``; None if unrelated."""
    if from_unit == to_unit:
        return 1.0
    for family in _FAMILIES:
        if from_unit in family and to_unit in family:
            return family[from_unit] / family[to_unit]
    return None


#: counted metrics (docs/counters.md): counts of what the code did, repeatable to a small
#: band on any host (callgrind's, perf's instruction count), not timings; the store knows
#: them by name. perf's cycles and misses are not among them: they vary with the host.
COUNTED_METRICS = frozenset(
    {"instructions", "l1_misses", "ll_misses", "estimated_cycles", "hw_instructions"}
)


@dataclass
class Metric:
    unit: str
    direction: Direction
    samples: list[float] = field(default_factory=list)
    #: a counted metric (instructions under callgrind, perf counters), not a timing:
    #: compared by perflab.compare.counted, one repetition per side enough
    counted: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unit": self.unit,
            "direction": self.direction,
            "samples": list(self.samples),
        }
        if self.counted:
            out["counted"] = True
        return out


@dataclass
class Benchmark:
    name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": dict(self.params),
            "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
        }


@dataclass
class ResultSet:
    """Parsed benchmarks plus free-form metadata (tool, version, context)."""

    benchmarks: list[Benchmark] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "benchmarks": [b.to_dict() for b in self.benchmarks],
        }
        if self.meta:
            out["meta"] = dict(self.meta)
        return out

    def get(self, name: str) -> Benchmark | None:
        for bench in self.benchmarks:
            if bench.name == name:
                return bench
        return None

    def sample_count(self) -> int:
        return sum(len(m.samples) for b in self.benchmarks for m in b.metrics.values())

    def extend(self, other: ResultSet) -> None:
        """Append ``other``'s samples (one more repetition) to the matching metrics."""
        builder = ResultBuilder(self)
        for bench in other.benchmarks:
            for name, metric in bench.metrics.items():
                for value in metric.samples:
                    builder.add(
                        bench.name, name, value, metric.unit, metric.direction, params=bench.params
                    )
                if metric.counted:
                    builder.benchmark(bench.name).metrics[name].counted = True
        for key, value in other.meta.items():
            self.meta.setdefault(key, value)


class ResultBuilder:
    """Accumulates samples in first-seen order; what parsers use to build a ResultSet."""

    def __init__(self, result: ResultSet | None = None) -> None:
        self.result = result if result is not None else ResultSet()
        self._index: dict[str, Benchmark] = {b.name: b for b in self.result.benchmarks}

    def benchmark(self, name: str, params: Mapping[str, str] | None = None) -> Benchmark:
        bench = self._index.get(name)
        if bench is None:
            bench = Benchmark(name=name, params=dict(params or {}))
            self._index[name] = bench
            self.result.benchmarks.append(bench)
        elif params:
            for key, value in params.items():
                bench.params.setdefault(key, value)
        return bench

    def add(
        self,
        bench: str,
        metric: str,
        value: float,
        unit: str,
        direction: Direction,
        params: Mapping[str, str] | None = None,
    ) -> None:
        self.add_many(bench, metric, [value], unit, direction, params)

    def add_many(
        self,
        bench: str,
        metric: str,
        values: Iterable[float],
        unit: str,
        direction: Direction,
        params: Mapping[str, str] | None = None,
    ) -> None:
        entry = self.benchmark(bench, params)
        found = entry.metrics.get(metric)
        if found is None:
            found = entry.metrics[metric] = Metric(unit=unit, direction=direction)
        elif found.unit != unit:
            factor = unit_factor(unit, found.unit)
            if factor is None:
                raise ValueError(f"{bench}/{metric}: unit {unit!r} does not match {found.unit!r}")
            values = [v * factor for v in values]
        samples = [float(v) for v in values]
        if not all(math.isfinite(v) for v in samples):
            bad = next(v for v in samples if not math.isfinite(v))
            raise ValueError(f"{bench}/{metric}: expected finite numbers as samples, got {bad}")
        found.samples.extend(samples)


class ResultShapeError(ValueError):
    """A dict that is not a normalized result; ``path`` is a JSON path to the fault."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def _finite_number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultShapeError(path, f"expected a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ResultShapeError(path, f"expected a finite number, got {number}")
    return number


def _metric_from(data: object, path: str) -> Metric:
    if not isinstance(data, dict):
        raise ResultShapeError(path, "expected a mapping with unit, direction, samples")
    unit = data.get("unit")
    if not isinstance(unit, str):
        raise ResultShapeError(f"{path}.unit", f"expected a unit string, got {unit!r}")
    direction = data.get("direction")
    if direction not in DIRECTIONS:
        raise ResultShapeError(
            f"{path}.direction", f'expected "lower" or "higher", got {direction!r}'
        )
    samples = data.get("samples")
    if not isinstance(samples, list):
        raise ResultShapeError(f"{path}.samples", f"expected a list, got {samples!r}")
    values = [_finite_number(v, f"{path}.samples[{i}]") for i, v in enumerate(samples)]
    return Metric(
        unit=unit,
        direction=cast(Direction, direction),
        samples=values,
        counted=data.get("counted") is True,
    )


def result_from_dict(data: object) -> ResultSet:
    """Validate and load a normalized result (as written by :meth:`ResultSet.to_dict`)."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultShapeError("$", 'expected a mapping with a "benchmarks" list')
    result = ResultSet(meta=dict(data.get("meta") or {}))
    for i, raw in enumerate(data["benchmarks"]):
        path = f"$.benchmarks[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ResultShapeError(path, "expected a mapping with a string name")
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            raise ResultShapeError(f"{path}.params", "expected a mapping")
        metrics = raw.get("metrics")
        if not isinstance(metrics, dict):
            raise ResultShapeError(f"{path}.metrics", "expected a mapping of metrics")
        result.benchmarks.append(
            Benchmark(
                name=raw["name"],
                params={str(k): str(v) for k, v in params.items()},
                metrics={
                    str(k): _metric_from(v, f"{path}.metrics.{k}") for k, v in metrics.items()
                },
            )
        )
    return result
