"""Rich tables for results and runs (rendering only; numbers come from the data)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from perflab.model import TIME_UNITS, ResultSet, unit_factor

if TYPE_CHECKING:
    from rich.table import Table

_TIME_STEPS = (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9))


def format_value(value: float, unit: str) -> str:
    """A number for people: times scaled to a readable unit, others with 4 significant digits."""
    if unit in TIME_UNITS:
        seconds = value * TIME_UNITS[unit]
        for name, scale in _TIME_STEPS:
            if abs(seconds) >= scale or name == "ns":
                shown = seconds / scale
                return f"{shown:.4g} {'µs' if name == 'us' else name}"
    if unit in ("B", "B/s"):
        for name in ("", "Ki", "Mi", "Gi", "Ti"):
            if abs(value) < 1024 or name == "Ti":
                return f"{value:.4g} {name}{unit}"
            value /= 1024
    if unit == "count":
        return f"{value:.4g}"
    return f"{value:.4g} {unit}".strip()


def summary_row(samples: Sequence[float]) -> dict[str, float | None]:
    if not samples:
        return {"n": 0, "median": None, "min": None, "max": None, "cv": None}
    mean = statistics.fmean(samples)
    cv = statistics.stdev(samples) / mean if len(samples) > 1 and mean else None
    return {
        "n": len(samples),
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "cv": cv,
    }


def results_table(result: ResultSet, *, title: str | None = None) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for name, justify in (
        ("benchmark", "left"),
        ("metric", "left"),
        ("n", "right"),
        ("median", "right"),
        ("min", "right"),
        ("max", "right"),
        ("cv", "right"),
        ("better", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for bench in result.benchmarks:
        for i, (metric_name, metric) in enumerate(bench.metrics.items()):
            row = summary_row(metric.samples)
            cv = row["cv"]
            shown = {
                k: "-" if row[k] is None else format_value(float(row[k] or 0), metric.unit)
                for k in ("median", "min", "max")
            }
            table.add_row(
                bench.name if i == 0 else "",
                metric_name,
                str(row["n"]),
                shown["median"],
                shown["min"],
                shown["max"],
                "-" if cv is None else f"{cv:.1%}",
                metric.direction,
            )
    return table


def runs_table(rows: Iterable[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(header_style="bold")
    for name in ("run", "job", "runner", "status", "started", "benchmarks", "commit"):
        table.add_column(name)
    for row in rows:
        started = str(row["started_at"])[:19].replace("T", " ")
        table.add_row(
            row["run_id"],
            row["job"],
            row["runner"],
            _status(row["status"]),
            started,
            str(row["benchmarks"]),
            (row.get("git_commit") or "")[:10],
        )
    return table


def _status(status: str) -> str:
    colour = {
        "completed": "green",
        "failed": "red",
        "interrupted": "yellow",
        "running": "cyan",
    }.get(status, "white")
    return f"[{colour}]{status}[/{colour}]"


def convert(value: float, from_unit: str, to_unit: str) -> float:
    factor = unit_factor(from_unit, to_unit)
    return value if factor is None else value * factor
