"""Samples written in bulk (COPY on PostgreSQL, executemany on SQLite) read back exactly:
values, their order, their repetitions; a second part of one run continues its rows."""

from __future__ import annotations

from perflab.model import ResultBuilder
from perflab.store import open_store


def _part(values: dict[str, list[float]]) -> object:
    builder = ResultBuilder()
    for bench, samples in values.items():
        builder.add_many(bench, "time", samples, "ns", "lower")
    builder.add_many("BM_x", "bytes", [7.0], "B", "lower")
    return builder.result


class TestIngest:
    def test_round_trip(self, backend_url: str) -> None:
        """Two repetitions stored one after the other: each benchmark's samples come back
        in the order stored, each with its repetition, on both databases."""
        with open_store(backend_url) as store:
            store.runs.create_run(
                "r1",
                job="j",
                job_sha256="0" * 64,
                job_spec={},
                runner="local",
                status="completed",
                perflab_version="t",
            )
            store.runs.add_results("r1", [(1, _part({"BM_x": [3.0, 1.0], "BM_y": [2.5]}))])
            store.runs.add_results("r1", [(2, _part({"BM_x": [2.0], "BM_y": [0.5, 9.0]}))])
            view = store.runs.get("r1")
            rows = store.runs.sample_rows("r1")
        got = {b.name: {m: x.samples for m, x in b.metrics.items()} for b in view.result.benchmarks}
        assert got == {
            "BM_x": {"time": [3.0, 1.0, 2.0], "bytes": [7.0, 7.0]},
            "BM_y": {"time": [2.5, 0.5, 9.0]},
        }
        assert view.sample_repetitions[("BM_x", "time")] == [1, 1, 2]
        assert view.sample_repetitions[("BM_y", "time")] == [1, 2, 2]
        assert [r["seq"] for r in rows if r["benchmark"] == "BM_x" and r["metric"] == "time"] == [
            0,
            1,
            2,
        ]
