"""Counted repetitions on the controller's side: refuse a job a runner cannot count, and
the path the job's commands find their tools in (docs/counters.md)."""

from __future__ import annotations

from typing import Any

from perflab.errors import InputError, Location
from perflab.facts.counting import missing_counter
from perflab.spec.job import Job


def counts(job: Job) -> bool:
    return any(b.counters for b in job.benchmarks)


def job_path(job: Job, env: dict[str, str]) -> str | None:
    """The PATH the harness gives the benchmark (the run's env over the job's), or None."""
    return env.get("PATH") or job.env.get("PATH")


def _where(job: Job, index: int) -> tuple[str, Location | None]:
    own = "counters" in job.raw["benchmarks"][index]
    where = f"benchmarks[{index}].counters" if own else "counters"
    return where, job.location(where) or (Location(str(job.path)) if job.path else None)


def check_counting(job: Job, facts: dict[str, Any] | None, runner: str) -> None:
    """Refuse (exit 3, before anything runs) a counter the runner cannot count."""
    for index, bench in enumerate(job.benchmarks):
        missing = missing_counter(facts, bench.counters)
        if missing is None:
            continue
        counter, why = missing
        where, location = _where(job, index)
        raise InputError(
            f'expected a runner that can count "{counter}", got runner "{runner}": {why}',
            location=location,
            field=where,
        )
