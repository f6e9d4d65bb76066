"""A metric's history across runs, and the change points in it (E-divisive, as Otava)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError
from perflab.names import unmatched

if TYPE_CHECKING:
    from perflab.store import Store


@dataclass
class History:
    job: str
    benchmark: str
    metric: str
    points: list[dict[str, Any]]
    change_points: list[dict[str, Any]]
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "benchmark": self.benchmark,
            "metric": self.metric,
            "settings": self.settings,
            "series": self.points,
            "change_points": self.change_points,
        }


def history(
    store: Store,
    job: str,
    benchmark: str,
    *,
    metric: str | None = None,
    platform: str | None = None,
    branch: str | None = None,
    runner: str | None = None,
    pvalue: float = 0.001,
    min_magnitude: float = 0.0,
    limit: int = 1000,
) -> History:
    """The series of ``metric`` (default: the benchmark's first metric) across the job's
    completed runs, and its change points."""
    from perflab.stats import change_points

    metric = _metric(store.runs.metric_names(job), job, benchmark, metric)
    rows = store.runs.series(
        job, benchmark, metric, platform=platform, branch=branch, runner=runner, limit=limit
    )
    if not rows:
        raise InputError(
            f'no completed run of job "{job}" has {benchmark} / {metric}',
            hint="check the names with `perflab results show RUN`",
        )
    points = [
        {
            **{k: v for k, v in row.items() if k != "samples"},
            "n": len(row["samples"]),
            "median": statistics.median(row["samples"]),
        }
        for row in rows
    ]
    found = (
        change_points([p["median"] for p in points], pvalue=pvalue, min_magnitude=min_magnitude)
        if len(points) >= 4
        else []
    )
    changes = []
    for cp in found:
        after = points[cp.index]
        changes.append(
            {
                **cp.to_dict(),
                "run_id": after["run_id"],
                "git_commit": after["git_commit"],
                "started_at": after["started_at"],
            }
        )
    return History(
        job,
        benchmark,
        metric,
        points,
        changes,
        {"pvalue": pvalue, "min_magnitude": min_magnitude, "runs": len(points)},
    )


def _metric(present: list[tuple[str, str]], job: str, benchmark: str, metric: str | None) -> str:
    """The metric asked for, or the benchmark's first; names that are not there are errors."""
    if not present:
        raise InputError(
            f'no completed run of job "{job}"', hint="check the name with `perflab results list`"
        )
    benches = [b for b, _ in present]
    if benchmark not in benches:
        raise unmatched(f"a benchmark of job {job}", benchmark, benches, field="BENCH")
    metrics = [m for b, m in present if b == benchmark]
    if metric is None:
        return metrics[0]
    if metric not in metrics:
        raise unmatched(f"a metric of {benchmark} in job {job}", metric, metrics, field="--metric")
    return metric
