"""Samples in and out in bulk: core statements, not one ORM object per value.

A run of 10,000 benchmarks x 30 samples is 10,000 benchmark rows, 10,000 metric
rows and 300,000 sample rows. Written as ORM objects that took 45 s on SQLite
here; read back through relationship loading, tens of seconds. These functions
write each table with one executemany (ids come back by RETURNING, which SQLite
>= 3.35 and PostgreSQL both have) and read a run's samples with one joined
SELECT of plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from perflab.model import COUNTED_METRICS, Benchmark, Metric, ResultSet
from perflab.store.models import BenchmarkRow, MetricRow, Sample

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table``; their new ids, in the order given."""
    if not rows:
        return []
    result = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [int(row[0]) for row in result.all()]


def add_results(
    session: Session, run_id: str, parts: Sequence[tuple[int | None, ResultSet]]
) -> None:
    """Samples of one run; a benchmark or metric seen before in this run gets more samples
    under the same row (their ``seq`` continues)."""
    conn_bench, conn_metric = BenchmarkRow.__table__, MetricRow.__table__
    existing = _existing(session, run_id)
    benches: dict[str, int] = {name: bid for (name, _), (bid, _) in existing.items()}
    metrics: dict[tuple[str, str], int] = {k: mid for k, (_, mid) in existing.items() if k[1]}
    seqs = _next_seqs(session, list(metrics.values()))
    new_benches = [(b.name, b.params) for _, res in parts for b in res.benchmarks]
    todo: list[dict[str, Any]] = [
        {"run_id": run_id, "name": n, "params": p or {}}
        for n, p in dict(new_benches).items()
        if n not in benches
    ]
    benches.update(
        zip([str(r["name"]) for r in todo], _ids(session, conn_bench, todo), strict=True)
    )
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for _, res in parts:
        for bench in res.benchmarks:
            for name, metric in bench.metrics.items():
                if (bench.name, name) not in metrics:
                    wanted.setdefault(
                        (bench.name, name),
                        {
                            "benchmark_id": benches[bench.name],
                            "name": name,
                            "unit": metric.unit,
                            "direction": metric.direction,
                        },
                    )
    metrics.update(zip(wanted, _ids(session, conn_metric, list(wanted.values())), strict=True))
    rows: list[tuple[int, int, int | None, float]] = []
    for repetition, res in parts:
        for bench in res.benchmarks:
            for name, metric in bench.metrics.items():
                mid = metrics[(bench.name, name)]
                seq = seqs.get(mid, 0)
                rows.extend(
                    (mid, seq + i, repetition, float(v)) for i, v in enumerate(metric.samples)
                )
                seqs[mid] = seq + len(metric.samples)
    if rows:
        _insert_samples(session, rows)


def _insert_samples(session: Session, rows: list[tuple[int, int, int | None, float]]) -> None:
    """Sample rows by the driver's fastest path: COPY on PostgreSQL (psycopg), one
    executemany of tuples on SQLite, a core executemany elsewhere."""
    conn = session.connection()
    dialect = conn.dialect
    raw: Any = conn.connection.dbapi_connection  # the driver's own connection (COPY)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        with (
            raw.cursor() as cursor,
            cursor.copy("COPY samples (metric_id, seq, repetition, value) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    elif dialect.name == "sqlite":
        cursor = raw.cursor()
        try:
            cursor.executemany(
                "INSERT INTO samples (metric_id, seq, repetition, value) VALUES (?, ?, ?, ?)", rows
            )
        finally:
            cursor.close()
    else:
        table: Any = Sample.__table__
        session.execute(
            insert(table),
            [{"metric_id": m, "seq": q, "repetition": r, "value": v} for m, q, r, v in rows],
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


def _next_seqs(session: Session, metric_ids: list[int]) -> dict[int, int]:
    if not metric_ids:
        return {}
    from sqlalchemy import func

    query = (
        select(Sample.metric_id, func.max(Sample.seq) + 1)
        .where(Sample.metric_id.in_(metric_ids))
        .group_by(Sample.metric_id)
    )
    return {int(m): int(n) for m, n in session.execute(query).all()}


def read_result(
    session: Session, run_id: str
) -> tuple[ResultSet, dict[tuple[str, str], list[int | None]]]:
    """A run's samples as a ResultSet, and the repetition of each sample, in stored order
    (benchmarks and metrics in the order first stored, samples by ``seq``)."""
    query = (
        select(
            BenchmarkRow.id,
            BenchmarkRow.name,
            BenchmarkRow.params,
            MetricRow.id,
            MetricRow.name,
            MetricRow.unit,
            MetricRow.direction,
        )
        .join(MetricRow, MetricRow.benchmark_id == BenchmarkRow.id, isouter=True)
        .where(BenchmarkRow.run_id == run_id)
        .order_by(BenchmarkRow.id, MetricRow.id)
    )
    result = ResultSet()
    by_metric: dict[int, tuple[Metric, list[int | None]]] = {}
    keys: dict[int, tuple[str, str]] = {}
    benches: dict[int, Benchmark] = {}
    for bid, bname, params, mid, mname, unit, direction in session.execute(query).all():
        bench = benches.get(bid)
        if bench is None:
            bench = benches[bid] = Benchmark(name=bname, params=dict(params or {}))
            result.benchmarks.append(bench)
        if mid is not None:
            metric = Metric(unit=unit, direction=direction, counted=mname in COUNTED_METRICS)
            bench.metrics[mname] = metric
            by_metric[mid] = (metric, [])
            keys[mid] = (bname, mname)
    samples = (
        select(Sample.metric_id, Sample.repetition, Sample.value)
        .join(MetricRow, MetricRow.id == Sample.metric_id)
        .join(BenchmarkRow, BenchmarkRow.id == MetricRow.benchmark_id)
        .where(BenchmarkRow.run_id == run_id)
        .order_by(Sample.metric_id, Sample.seq)
    )
    rows = _raw_rows(session, samples)
    if rows:
        mids, repetitions, values = (list(column) for column in zip(*rows, strict=True))
        start = 0
        for stop in [*_boundaries(mids), len(mids)]:  # rows come grouped by metric
            metric, reps = by_metric[mids[start]]
            metric.samples.extend(values[start:stop])
            reps.extend(repetitions[start:stop])
            start = stop
    return result, {keys[m]: reps for m, (_, reps) in by_metric.items()}


def _boundaries(ids: list[int]) -> list[int]:
    """Indices where a sorted list of ids changes value."""
    import numpy as np

    array = np.asarray(ids, dtype=np.int64)
    found: list[int] = (np.flatnonzero(array[1:] != array[:-1]) + 1).tolist()
    return found


def _raw_rows(session: Session, query: Any) -> list[tuple[Any, ...]]:
    """Rows of ``query`` straight from the driver's cursor: no Row object per sample (a
    third of the time of reading 300,000 samples went to building them)."""
    conn = session.connection()
    compiled = query.compile(dialect=conn.dialect)
    params: Any = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
