"""Samples in and out in bulk: core statements, not one ORM object per value.

A run of 10,000 benchmarks x 30 samples is 10,000 benchmark rows and 10,000
metric rows, each metric holding its samples as packed arrays
(:mod:`perflab.store.packed`; one row per sample was 300,000 rows to write and
read back). Written as ORM objects that took 45 s on SQLite here; these
functions write each table with one executemany (a run's new benchmarks' ids
read back by one SELECT: (run, name) is unique) and read a run with one joined
SELECT of plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import String, insert, select, type_coerce

from perflab.model import COUNTED_METRICS, Benchmark, Direction, Metric, ResultSet
from perflab.store.models import BenchmarkRow, MetricRow
from perflab.store.packed import (
    pack_repetitions,
    pack_values,
    unpack_repetitions,
    unpack_values,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` by one executemany (no RETURNING: with the rows'
    order kept, SQLite gets one statement a row, 40,000 for two large runs)."""
    if rows:
        session.execute(insert(table), rows)


def add_results(
    session: Session, run_id: str, parts: Sequence[tuple[int | None, ResultSet]]
) -> None:
    """Samples of one run; a benchmark or metric seen before in this run gets more samples
    under the same row (appended to its packed arrays)."""
    conn_bench, conn_metric = BenchmarkRow.__table__, MetricRow.__table__
    existing = _existing(session, run_id)
    benches: dict[str, int] = {name: bid for (name, _), (bid, _) in existing.items()}
    metrics: dict[tuple[str, str], int] = {k: mid for k, (_, mid) in existing.items() if k[1]}
    new_benches = [(b.name, b.params) for _, res in parts for b in res.benchmarks]
    todo: list[dict[str, Any]] = [
        {"run_id": run_id, "name": n, "params": p or {}}
        for n, p in dict(new_benches).items()
        if n not in benches
    ]
    _insert(session, conn_bench, todo)
    if todo:  # their ids: (run, name) is unique
        benches = {name: bid for (name, _), (bid, _) in _existing(session, run_id).items()}
    # every metric's new samples and their repetitions, in the order given
    found: dict[tuple[str, str], tuple[Metric, list[float], list[int | None]]] = {}
    for repetition, res in parts:
        for bench in res.benchmarks:
            for name, metric in bench.metrics.items():
                entry = found.setdefault((bench.name, name), (metric, [], []))
                entry[1].extend(metric.samples)
                entry[2].extend([repetition] * len(metric.samples))
    wanted = [
        {
            "benchmark_id": benches[key[0]],
            "name": key[1],
            "unit": metric.unit,
            "direction": metric.direction,
            "sample_values": pack_values(values),
            "sample_repetitions": pack_repetitions(reps),
        }
        for key, (metric, values, reps) in found.items()
        if key not in metrics
    ]
    _insert(session, conn_metric, wanted)
    more = {metrics[k]: (v[1], v[2]) for k, v in found.items() if k in metrics}
    if more:
        _append(session, more)


def _append(session: Session, more: dict[int, tuple[list[float], list[int | None]]]) -> None:
    """More samples for metrics already stored (a run's later repetitions), without losing
    one to a read-modify-write race between two writers: the rows are written to (left as
    they are) before they are read, so the transaction holds the write lock first (SQLite
    has no row locks, and its driver begins a transaction only at the first write: a
    read before it saw a state another writer could replace) and the rows' locks
    (PostgreSQL) while their arrays grow."""
    from sqlalchemy import bindparam, update

    table: Any = MetricRow.__table__
    ids = list(more)
    session.execute(
        update(table).where(table.c.id.in_(ids)).values(sample_values=table.c.sample_values)
    )
    query = (
        select(MetricRow.id, MetricRow.sample_values, MetricRow.sample_repetitions)
        .where(MetricRow.id.in_(ids))
        .with_for_update()
    )
    rows = []
    for mid, blob, rep_blob in session.execute(query).all():
        values, reps = more[int(mid)]
        before = unpack_values(blob)
        rows.append(
            {
                "mid": int(mid),
                "vals": pack_values(before + values),
                "reps": pack_repetitions(unpack_repetitions(rep_blob, len(before)) + reps),
            }
        )
    session.execute(
        update(table)
        .where(table.c.id == bindparam("mid"))
        .values(sample_values=bindparam("vals"), sample_repetitions=bindparam("reps")),
        rows,
    )


def _existing(session: Session, run_id: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(benchmark, metric or "") -> (benchmark id, metric id) already stored for the run."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    query = (
        select(BenchmarkRow.id, BenchmarkRow.name, MetricRow.id, MetricRow.name)
        .outerjoin(MetricRow, MetricRow.benchmark_id == BenchmarkRow.id)
        .where(BenchmarkRow.run_id == run_id)
    )
    for bid, bname, mid, mname in session.execute(query).all():
        out[(bname, "")] = (bid, 0)
        if mid is not None:
            out[(bname, mname)] = (bid, mid)
    return out


def read_result(
    session: Session, run_id: str
) -> tuple[ResultSet, dict[tuple[str, str], list[int | None]]]:
    """A run's samples as a ResultSet, and the repetition of each sample, in stored order
    (benchmarks and metrics in the order first stored, samples as measured)."""
    query = (
        select(
            BenchmarkRow.id,
            BenchmarkRow.name,
            type_coerce(BenchmarkRow.params, String),  # decoded below, only when not {}
            MetricRow.name,
            MetricRow.unit,
            MetricRow.direction,
            MetricRow.sample_values,
            MetricRow.sample_repetitions,
        )
        .join(MetricRow, MetricRow.benchmark_id == BenchmarkRow.id, isouter=True)
        .where(BenchmarkRow.run_id == run_id)
        .order_by(BenchmarkRow.id, MetricRow.id)
    )
    result = ResultSet()
    repetitions: dict[tuple[str, str], list[int | None]] = {}
    benches: dict[int, Benchmark] = {}
    for bid, bname, params, mname, unit, direction, blob, rep_blob in session.execute(query):
        bench = benches.get(bid)
        if bench is None:
            bench = benches[bid] = Benchmark(name=bname, params=_params(params))
            result.benchmarks.append(bench)
        if mname is not None:
            values = unpack_values(blob)
            bench.metrics[mname] = Metric(
                unit=unit,
                direction=cast(Direction, direction),
                counted=mname in COUNTED_METRICS,
                samples=values,
            )
            repetitions[(bname, mname)] = unpack_repetitions(rep_blob, len(values))
    return result, repetitions


def _params(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """A benchmark's parameters from the column's JSON text (SQLite) or the driver's
    dict (PostgreSQL); most benchmarks have none, which needs no JSON decoder."""
    if raw is None or raw in ("{}", "null"):
        return {}
    if isinstance(raw, str):
        import json

        return dict(json.loads(raw) or {})
    return dict(raw)
