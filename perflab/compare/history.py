"""A metric's history across runs, and the change points in it (E-divisive, as Otava)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError

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
        return {"job": self.job, "benchmark": self.benchmark, "metric": self.metric,
                "settings": self.settings, "series": self.points,
                "change_points": self.change_points}


def history(store: Store, job: str, benchmark: str, *, metric: str = "time",
            platform: str | None = None, branch: str | None = None, runner: str | None = None,
            pvalue: float = 0.001, min_magnitude: float = 0.0, limit: int = 1000) -> History:
    from perflab.stats import change_points

    rows = store.runs.series(job, benchmark, metric, platform=platform, branch=branch,
                             runner=runner, limit=limit)
    if not rows:
        raise InputError(f'no completed run of job "{job}" has {benchmark} / {metric}',
                         hint="check the names with `perflab results show RUN`")
    points = [{**{k: v for k, v in row.items() if k != "samples"},
               "n": len(row["samples"]), "median": statistics.median(row["samples"])}
              for row in rows]
    found = change_points([p["median"] for p in points], pvalue=pvalue,
                          min_magnitude=min_magnitude) if len(points) >= 4 else []
    changes = []
    for cp in found:
        after = points[cp.index]
        changes.append({**cp.to_dict(), "run_id": after["run_id"],
                        "git_commit": after["git_commit"], "started_at": after["started_at"]})
    return History(job, benchmark, metric, points, changes,
                   {"pvalue": pvalue, "min_magnitude": min_magnitude, "runs": len(points)})
