"""A job's gates against the metric names its formats can produce, before anything runs.

Each format declares its metric names (:func:`perflab.formats.metric_names`). A gate is
refused only when the answer is certain: every benchmark it can select has a closed format
and none of them produces the gate's metric, or its benchmark glob can select no benchmark at
all. Open-ended formats (``auto``, go, gbench, jmh, perflab) are checked against the metrics
a run actually has (:func:`run_gate_error` after ``perflab run``; ``perflab compare``).

Result names: a ``time`` benchmark is named exactly as in the job; a tool's benchmarks keep
the tool's names, prefixed with the job's benchmark name (``insert/BM_x``) when the job has
several benchmarks.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError, SpecErrors
from perflab.formats import metric_names
from perflab.names import gate_errors, unmatched

if TYPE_CHECKING:
    from perflab.model import ResultSet
    from perflab.spec.job import BenchmarkSpec, Job

_WILDCARDS = "*?["


def gate_name_errors(job: Job) -> list[InputError]:
    """Every gate of ``job`` that certainly matches nothing, placed in the job file."""
    errors = []
    for index, gate in enumerate(job.gates):
        error = _gate_error(job, f"gates[{index}]", gate)
        if error is not None:
            errors.append(error)
    return errors


def run_gate_error(job: Job, result: ResultSet) -> InputError | None:
    """After a run: the job's gates against the metrics the run actually has (one error, or
    SpecErrors for several), placed in the job file."""
    present = [(b.name, m) for b in result.benchmarks for m in b.metrics]
    errors = gate_errors(job.gates, present, what="of this run", where=job.location)
    return errors[0] if len(errors) == 1 else SpecErrors(errors) if errors else None


def _gate_error(job: Job, field: str, gate: Mapping[str, Any]) -> InputError | None:
    several = len(job.benchmarks) > 1
    pattern = gate.get("benchmark")
    specs = [s for s in job.benchmarks if _may_select(pattern, s, several)]
    if not specs:
        return unmatched(
            "a benchmark of this job",
            str(pattern),
            [_result_name(s, several) for s in job.benchmarks],
            field=f"{field}.benchmark",
            location=job.location(f"{field}.benchmark"),
        )
    declared = [metric_names(s.format) for s in specs]
    known = [name for names in declared if names is not None for name in names]
    if None in declared or gate["metric"] in known:
        return None
    formats = list(dict.fromkeys(s.format for s in specs))
    which = f"the {' and '.join(formats)} format{'s' if len(formats) > 1 else ''}"
    verb = "produce" if len(formats) > 1 else "produces"
    return unmatched(
        f"a metric {which} {verb}",
        str(gate["metric"]),
        known,
        field=f"{field}.metric",
        location=job.location(f"{field}.metric"),
    )


def _result_name(spec: BenchmarkSpec, several: bool) -> str:
    """How the benchmark's results are named: exactly, or the tool's names (below a prefix)."""
    if spec.format == "time":
        return spec.name
    return f"{spec.name}/*" if several else "*"


def _may_select(pattern: str | None, spec: BenchmarkSpec, several: bool) -> bool:
    """Can the glob select a result of this benchmark? (True when it cannot be known.)"""
    if pattern is None:
        return True
    if spec.format == "time":
        return fnmatchcase(spec.name, pattern)
    if not several:
        return True
    return _may_start_with(pattern, f"{spec.name}/")


def _may_start_with(pattern: str, prefix: str) -> bool:
    """Could ``pattern`` match some name that starts with ``prefix``? Decided on the pattern's
    literal start: it must agree with the prefix as far as both go."""
    cut = min((i for i, ch in enumerate(pattern) if ch in _WILDCARDS), default=len(pattern))
    literal = pattern[:cut]
    if cut == len(pattern):
        return literal.startswith(prefix)
    return literal.startswith(prefix) or prefix.startswith(literal)
