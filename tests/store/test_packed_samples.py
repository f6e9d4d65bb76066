"""Migration 0012: samples move from a row each into packed arrays on their metric, and
back on downgrade, value for value (SQLite and PostgreSQL)."""

from __future__ import annotations

import math

import pytest

from perflab.store.packed import (
    NO_REPETITION,
    pack_repetitions,
    pack_values,
    unpack_repetitions,
    unpack_values,
)

sqlalchemy = pytest.importorskip("sqlalchemy")


def _alembic(conn: object, action: str, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    from perflab.store.engine import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    getattr(command, action)(cfg, target)


OLD_ROWS = [  # (metric, seq, repetition, value): seq out of insertion order on purpose
    (1, 1, 0, 2.5),
    (1, 0, None, 1.0000000000000002),
    (1, 2, 7, -0.0),
    (2, 0, 3, 1e300),
    (2, 1, 3, 5e-324),
]


class TestPackedSamples:
    def test_pack_round_trips_bit_for_bit(self) -> None:
        values = [1.0, 1.0000000000000002, -0.0, 5e-324, math.inf, 1e300]
        back = unpack_values(pack_values(values))
        assert [v.hex() for v in back] == [v.hex() for v in values]
        reps = [0, None, 2**40, 3]
        assert unpack_repetitions(pack_repetitions(reps), 4) == reps
        assert unpack_repetitions(b"", 2) == [None, None]
        assert NO_REPETITION not in unpack_repetitions(pack_repetitions([None]), 1)

    def test_the_bytes_are_little_endian_float64_and_int64(self) -> None:
        """Packed with the standard library's ``array``, the bytes are the ones numpy's
        ``<f8`` and ``<i8`` give, so stores written before read the same; numpy values,
        ints and NaN go in as floats."""
        import numpy as np

        values = [1.5, -0.0, math.nan, math.inf, 5e-324, np.float64(2.25), 7]
        assert pack_values(values) == np.asarray(values, dtype="<f8").tobytes()
        reps = [0, 2**40, -1, np.int64(3)]
        assert pack_repetitions(reps) == np.asarray(reps, dtype="<i8").tobytes()
        assert unpack_values(np.asarray([3.0, 1e300], dtype="<f8").tobytes()) == [3.0, 1e300]

    def test_an_old_store_is_migrated_and_back(self, backend_url: str) -> None:
        engine = sqlalchemy.create_engine(backend_url)
        text = sqlalchemy.text
        try:
            with engine.begin() as conn:
                _alembic(conn, "upgrade", "0011")
                conn.execute(
                    text(
                        "INSERT INTO runs (id, job, job_sha256, job_spec, runner, status, "
                        "started_at, perflab_version, flags, tags) VALUES ('r1', 'j', 'x', '{}', "
                        "'local', 'completed', '2026-12-01', '0', '[]', '{}')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO benchmarks (id, run_id, name, params) "
                        "VALUES (1, 'r1', 'b', '{}')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO metrics (id, benchmark_id, name, unit, direction) VALUES "
                        "(1, 1, 'time', 'ns', 'lower'), (2, 1, 'rss', 'B', 'lower'), "
                        "(3, 1, 'empty', 'ns', 'lower')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO samples (metric_id, seq, repetition, value) "
                        "VALUES (:m, :s, :r, :v)"
                    ),
                    [{"m": m, "s": s, "r": r, "v": v} for m, s, r, v in OLD_ROWS],
                )
                _alembic(conn, "upgrade", "head")
                packed = {
                    mid: (unpack_values(v), unpack_repetitions(r, len(unpack_values(v))))
                    for mid, v, r in conn.execute(
                        text("SELECT id, sample_values, sample_repetitions FROM metrics")
                    )
                }
                assert packed == {
                    1: ([1.0000000000000002, 2.5, -0.0], [None, 0, 7]),
                    2: ([1e300, 5e-324], [3, 3]),
                    3: ([], []),
                }
                assert "samples" not in sqlalchemy.inspect(conn).get_table_names()
                _alembic(conn, "downgrade", "0011")
                back = conn.execute(
                    text("SELECT metric_id, seq, repetition, value FROM samples ORDER BY 1, 2")
                ).all()
            assert [tuple(r) for r in back] == sorted((m, s, r, v) for m, s, r, v in OLD_ROWS)
        finally:
            engine.dispose()

    def test_later_repetitions_append_to_a_metric(self, backend_url: str) -> None:
        """A run's samples written in parts (one repetition at a time) land on one metric
        row in order, each with its repetition."""
        from perflab.model import Benchmark, Metric, ResultSet
        from perflab.store import open_store

        def part(values: list[float]) -> ResultSet:
            out = ResultSet()
            out.benchmarks.append(
                Benchmark(name="b", metrics={"time": Metric("ns", "lower", values)})
            )
            return out

        with open_store(backend_url) as store:
            store.runs.create_run(
                "r1",
                job="j",
                job_sha256="0" * 64,
                job_spec={},
                runner="local",
                status="running",
                perflab_version="0",
            )
            store.runs.add_results("r1", [(0, part([1.0, 2.0]))])
            store.runs.add_results("r1", [(1, part([3.0])), (2, part([4.0]))])
            view = store.runs.get("r1")
            assert view.result.benchmarks[0].metrics["time"].samples == [1.0, 2.0, 3.0, 4.0]
            assert view.sample_repetitions[("b", "time")] == [0, 0, 1, 2]
            rows = store.runs.sample_rows("r1")
            assert [(r["seq"], r["repetition"], r["value"]) for r in rows] == [
                (0, 0, 1.0),
                (1, 0, 2.0),
                (2, 1, 3.0),
                (3, 2, 4.0),
            ]


APPEND = """
import sys
from perflab.model import Benchmark, Metric, ResultSet
from perflab.store import open_store

url, who = sys.argv[1], int(sys.argv[2])
with open_store(url) as store:
    for i in range(15):
        res = ResultSet()
        res.benchmarks.append(
            Benchmark(name="b", metrics={"time": Metric("ns", "lower", [who * 1000.0 + i])})
        )
        store.runs.add_results("r1", [(who * 1000 + i, res)])
"""


class TestConcurrentAppends:
    def test_two_writers_lose_no_sample(self, backend_url: str) -> None:
        """Two processes append to one metric of one run at once (read, grow, write the
        packed arrays): every sample of both is there, each with its repetition."""
        import subprocess
        import sys

        from perflab.model import Benchmark, Metric, ResultSet
        from perflab.store import open_store

        first = ResultSet()
        first.benchmarks.append(Benchmark(name="b", metrics={"time": Metric("ns", "lower", [])}))
        with open_store(backend_url) as store:
            store.runs.create_run(
                "r1",
                job="j",
                job_sha256="0" * 64,
                job_spec={},
                runner="local",
                status="running",
                perflab_version="0",
            )
            store.runs.add_results("r1", [(None, first)])
        procs = [
            subprocess.Popen([sys.executable, "-c", APPEND, backend_url, str(who)])
            for who in (1, 2)
        ]
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
        with open_store(backend_url) as store:
            view = store.runs.get("r1")
        values = view.result.benchmarks[0].metrics["time"].samples
        reps = view.sample_repetitions[("b", "time")]
        expected = {w * 1000.0 + i for w in (1, 2) for i in range(15)}
        assert sorted(values) == sorted(expected)
        assert [int(v) for v in values] == reps
        for who in (1, 2):  # each writer's samples in its own order
            mine = [v for v in values if int(v) // 1000 == who]
            assert mine == sorted(mine)
