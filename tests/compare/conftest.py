"""Stored runs with chosen samples, for comparison tests."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from perflab.model import ResultBuilder
from perflab.store import open_store
from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)

#: runs made here are declared exchangeable (no run-to-run spread), so tests of the
#: sample-level statistics are not widened by the default spread of a single-run baseline
#: (tests/compare/test_runs.py tests that)
EXCHANGEABLE = {"run_spread": 0}
ENV = {"hostname": "h", "kernel": "6.1", "arch": "x86_64", "cpu": {"model": "EPYC", "count": 8}}
_ids = itertools.count(1)
_clock = itertools.count()


def samples(median: float, *, n: int = 20, cv: float = 0.01, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [median * rng.lognormvariate(0, cv) for _ in range(n)]


@pytest.fixture
def make_run(home) -> Callable[..., str]:
    """make_run({"BM_a": {"time": [...]}}, job=..., fingerprint=..., ...) -> run id."""

    def make(
        benchmarks: dict[str, dict[str, list[float]]],
        *,
        job: str = "j",
        fingerprint: str = "f" * 64,
        platform: str = "linux-x86_64",
        branch: str = "main",
        status: str = "completed",
        flags: list | None = None,
        spec: dict | None = None,
        environment: dict | None = None,
        units: dict | None = None,
    ) -> str:
        run_id = f"{next(_ids):08x}"
        store = open_store()
        try:
            started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=next(_clock))
            store.runs.create_run(
                run_id,
                job=job,
                job_sha256="0" * 64,
                job_spec=spec or {"name": job, "compare": EXCHANGEABLE},
                runner="local",
                platform=platform,
                status=status,
                flags=flags or [],
                fingerprint=fingerprint,
                branch=branch,
                git_commit=run_id,
                perflab_version="test",
                started_at=started,
            )
            store.runs.add_environment(run_id, "before", environment or ENV)
            builder = ResultBuilder()
            for bench, metrics in benchmarks.items():
                for metric, values in metrics.items():
                    unit, direction = (units or {}).get(metric, ("ns", "lower"))
                    builder.add_many(bench, metric, values, unit, direction)
            store.runs.add_results(run_id, [(None, builder.result)])
        finally:
            store.close()
        return run_id

    return make


def assert_regressed(result, metric: str = "user_time", low: float = 1.5) -> None:
    """A real A/B run whose candidate does more work: exit 2 with ``metric`` regressed, or,
    on a machine busy enough that the harness flagged the runs contaminated, exit 4 with
    every unmeasured row blaming contamination and ``metric``'s raw ratio still above
    ``low`` (flags decide: a contaminated measurement is never called regressed)."""
    assert result.status in (2, 4), result.err
    rows = {r["metric"]: r for r in result.json()["comparison"]["rows"]}
    row = rows[metric]
    assert row["paired"] is True and row["ratio"] > low
    if result.status == 2:
        assert row["verdict"] == "regressed"
        return
    blocked = [r for r in rows.values() if r["unmeasured"]]
    assert blocked and all(r["unmeasured"] == ["contaminated"] for r in blocked)
    assert row["verdict"] == "unknown" and "could not measure" in row["reason"]
