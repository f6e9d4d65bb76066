"""Turn the harness's step events and raw outputs into samples.

Parsing happens after the last repetition (never between them, so the
controller stays quiet while the benchmark runs) and only on local copies:
for a remote runner the outputs were fetched first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab.errors import FormatError
from perflab.model import ResultSet
from perflab.spec.job import BenchmarkSpec, Job


@dataclass
class StepRecord:
    """One step's event, with paths already pointing at local copies."""

    id: str
    kind: str
    benchmark: int | None
    index: int
    event: dict[str, Any]

    @property
    def ok(self) -> bool:
        return (
            self.event.get("exit") == 0
            and not self.event.get("timed_out")
            and not self.event.get("error")
        )


@dataclass
class Collected:
    parts: list[tuple[int | None, ResultSet]] = field(default_factory=list)
    errors: list[FormatError] = field(default_factory=list)


def _prefix(result: ResultSet, prefix: str) -> ResultSet:
    for bench in result.benchmarks:
        bench.name = f"{prefix}/{bench.name}"
    return result


def parse_step(job: Job, spec: BenchmarkSpec, record: StepRecord) -> ResultSet:
    from perflab.formats import parse_path
    from perflab.formats.time import time_result

    if spec.format == "time":
        return time_result(spec.name, [record.event])
    source = record.event.get("output") if spec.output else record.event.get("stdout")
    if not source or not Path(source).exists():
        raise FormatError(
            spec.format,
            f"no output to parse ({spec.output or 'stdout'})",
            source=f"{spec.name} repetition {record.index}",
        )
    result = parse_path(Path(source), spec.format)
    if len(job.benchmarks) > 1:
        result = _prefix(result, spec.name)
    return result


def count_step(job: Job, spec: BenchmarkSpec, record: StepRecord) -> ResultSet:
    """A counted repetition's metrics (docs/counters.md): the whole command's count with
    ``format: time``; per iteration for tools that report their iterations."""
    from perflab.formats import parse_path
    from perflab.formats.counted import counted_result, per_op

    counted = record.event.get("counted") or {}
    if spec.format == "time":
        return counted_result(spec.name, counted)
    source = record.event.get("output") if spec.output else record.event.get("stdout")
    where = f"{spec.name} counted repetition {record.index}"
    if not source or not Path(source).exists():
        raise FormatError(
            spec.format, f"no output to parse ({spec.output or 'stdout'})", source=where
        )
    path = Path(source)
    name, iterations = per_op(
        spec.format,
        path.read_text(encoding="utf-8", errors="replace"),
        parse_path(path, spec.format),
        where,
    )
    if len(job.benchmarks) > 1:
        name = f"{spec.name}/{name}"
    return counted_result(name, counted, iterations)


def collect(job: Job, records: list[StepRecord]) -> Collected:
    """Parse every successful measured (and counted) repetition; format errors are kept,
    not raised."""
    out = Collected()
    for record in records:
        if record.kind not in ("run", "count") or record.benchmark is None or not record.ok:
            continue
        spec = job.benchmarks[record.benchmark]
        try:
            if record.kind == "count":
                result = count_step(job, spec, record)
            else:
                result = parse_step(job, spec, record)
        except FormatError as exc:
            out.errors.append(exc)
            continue
        out.parts.append((record.index, result))
    return out


def merged(parts: list[tuple[int | None, ResultSet]]) -> ResultSet:
    total = ResultSet()
    for _, part in parts:
        total.extend(part)
    return total
