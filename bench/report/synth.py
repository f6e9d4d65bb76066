"""Synthetic stored runs for the report and compare benchmarks (bench/report, bench/aggregate).

Runs are written through the store's own API (``create_run`` and ``add_results``),
as ``perflab run`` writes them; values are log-normal with a 2% spread, and a
few benchmarks per run are shifted so there is something to find.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from perflab import __version__
from perflab.model import Benchmark, Metric, ResultSet

JOB_SPEC = {"name": "synthetic", "compare": {"noise_band": "1%"}}


def result(
    count: int,
    samples: int,
    *,
    seed: int,
    shift: float = 1.0,
    shifted: float = 0.02,
    scale: float = 1.0,
) -> ResultSet:
    rng = np.random.default_rng(seed)
    base = np.exp(rng.uniform(np.log(1e3), np.log(1e7), count))  # same medians every run
    values = rng.lognormal(0.0, 0.02, (count, samples)) * base[:, None] * scale
    moved = np.random.default_rng(99).random(count) < shifted
    values[moved] *= shift
    out = ResultSet()
    for i in range(count):
        out.benchmarks.append(
            Benchmark(
                name=f"BM_Synthetic/{i}",
                metrics={"time": Metric(unit="ns", direction="lower", samples=values[i].tolist())},
            )
        )
    return out


def store_run(
    store: object,
    run_id: str,
    res: ResultSet,
    *,
    platform: str = "linux-x86_64",
    runner: str = "local",
) -> float:
    """Write one completed run; returns the seconds it took."""
    started = time.perf_counter()
    runs = store.runs  # type: ignore[attr-defined]
    runs.create_run(
        run_id,
        job="synthetic",
        job_sha256="0" * 64,
        job_spec=JOB_SPEC,
        runner=runner,
        platform=platform,
        status="completed",
        perflab_version=__version__,
        fingerprint=f"fp-{platform}",
    )
    runs.add_results(run_id, [(None, res)])
    return time.perf_counter() - started
