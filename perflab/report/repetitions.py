"""A run's repetitions and raw samples as tables, for ``perflab results show`` (rendering only).

One table of every step the harness ran (setup, warmup, measured), with what
the harness measured of it; the involuntary context switches are the
evidence that something else ran on the benchmark's CPU. Then, per parsed
benchmark, one row per repetition with that repetition's samples of each
metric: a slow repetition or a drifting series shows here, where a summary
hides it. ``results export`` has every value; a cell shows the first
:data:`MAX_SHOWN`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from perflab.report.tables import format_value

if TYPE_CHECKING:
    from rich.table import Table

#: samples shown per repetition and metric (the rest are counted)
MAX_SHOWN = 8

_STEP_COLUMNS = (
    "step",
    "benchmark",
    "kind",
    "#",
    "exit",
    "wall",
    "user",
    "sys",
    "max rss",
    "ctx vol.",
    "ctx invol.",
    "others",
    "steal",
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def contention_line(repetitions: Sequence[dict[str, Any]]) -> str | None:
    """One line on how much other tasks used the benchmark's CPUs during the measured
    repetitions (None when the harness recorded nothing)."""
    from perflab.stats.contamination import REPETITION_SHARE

    runs = [r for r in repetitions if r.get("kind") == "run" and r.get("other_share") is not None]
    if not runs:
        return None
    other = sorted(float(r["other_share"]) for r in runs)
    steal = sorted(float(r.get("steal_share") or 0.0) for r in runs)
    hit = sum(
        1
        for r in runs
        if max(float(r["other_share"]), float(r.get("steal_share") or 0)) >= REPETITION_SHARE
    )
    preempted = sorted(int(r.get("nivcsw") or 0) for r in runs)
    return (
        f"others     used {other[len(other) // 2]:.0%} of the benchmark's CPUs (median; "
        f"max {other[-1]:.0%}), steal {steal[len(steal) // 2]:.0%}; {hit}/{len(runs)} "
        f"repetitions at or above {REPETITION_SHARE:.0%}; preempted "
        f"{preempted[len(preempted) // 2]} times per repetition (median)"
    )


def _ended(rep: dict[str, Any]) -> str:
    if rep.get("timed_out"):
        return "[red]timeout[/red]"
    if rep.get("error"):
        return "[red]error[/red]"
    if rep.get("signal"):
        return f"[red]signal {rep['signal']}[/red]"
    status = rep.get("exit_status")
    return "-" if status is None else (str(status) if status == 0 else f"[red]{status}[/red]")


def _ns(value: int | None) -> str:
    return "-" if value is None else format_value(float(value), "ns")


def repetitions_table(repetitions: Sequence[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title="repetitions", title_justify="left", header_style="bold")
    for name in _STEP_COLUMNS:
        table.add_column(name, justify="left" if name in ("step", "benchmark", "kind") else "right")
    for rep in repetitions:
        rss = rep.get("maxrss_kb")
        table.add_row(
            rep["step"],
            rep.get("benchmark") or "-",
            rep["kind"],
            str(rep.get("index") or "-"),
            _ended(rep),
            _ns(rep.get("wall_ns")),
            _ns(rep.get("user_ns")),
            _ns(rep.get("sys_ns")),
            "-" if rss is None else format_value(float(rss) * 1024, "B"),
            str(rep.get("nvcsw", "-")),
            str(rep.get("nivcsw", "-")),
            _pct(rep.get("other_share")),
            _pct(rep.get("steal_share")),
        )
    return table


def _cell(values: Sequence[float], unit: str) -> str:
    shown = ", ".join(format_value(v, unit) for v in values[:MAX_SHOWN])
    more = len(values) - MAX_SHOWN
    return shown + (f", ... (+{more})" if more > 0 else "")


def samples_tables(rows: Iterable[dict[str, Any]]) -> list[Table]:
    """One table per benchmark: a row per repetition, a column per metric. ``rows`` as
    :meth:`perflab.store.runs.RunStore.sample_rows` returns them."""
    from rich.table import Table

    grouped: dict[str, dict[str, tuple[str, dict[int | None, list[float]]]]] = {}
    for row in rows:
        metrics = grouped.setdefault(row["benchmark"], {})
        _, by_rep = metrics.setdefault(row["metric"], (row["unit"], {}))
        by_rep.setdefault(row["repetition"], []).append(row["value"])
    tables = []
    for bench, metrics in grouped.items():
        table = Table(title=f"samples of {bench}", title_justify="left", header_style="bold")
        table.add_column("rep", justify="right")
        for metric in metrics:
            table.add_column(metric)
        reps = sorted(
            {r for _, by_rep in metrics.values() for r in by_rep}, key=lambda r: (r is None, r or 0)
        )
        for rep in reps:
            table.add_row(
                "-" if rep is None else str(rep),
                *[_cell(by_rep.get(rep, []), unit) for unit, by_rep in metrics.values()],
            )
        tables.append(table)
    return tables
