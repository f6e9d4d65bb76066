"""The results store: runs, samples, environments; SQLite here, PostgreSQL in the queue tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.model import ResultBuilder, ResultSet
from perflab.store import open_store
from perflab.store.engine import head_revision


def result(values: list[float], name: str = "BM_a") -> ResultSet:
    builder = ResultBuilder()
    builder.add_many(name, "time", values, "ns", "lower", params={"n": "64"})
    return builder.result


@pytest.fixture
def store(backend_url: str):
    """The same tests on SQLite and on PostgreSQL."""
    store = open_store(backend_url)
    yield store
    store.close()


def new_run(store, run_id: str = "abcd1234", **values) -> None:
    base = {
        "job": "j",
        "job_sha256": "0" * 64,
        "job_spec": {"name": "j"},
        "runner": "local",
        "status": "running",
        "perflab_version": "0",
    }
    base.update(values)
    store.runs.create_run(run_id, **base)


class TestRuns:
    def test_samples_roundtrip_in_order(self, store) -> None:
        """Raw samples come back exactly, per repetition, in order."""
        new_run(store)
        store.runs.add_results(
            "abcd1234", [(1, result([3.0])), (2, result([1.0])), (3, result([2.0]))]
        )
        view = store.runs.get("abcd1234")
        metric = view.result.benchmarks[0].metrics["time"]
        assert metric.samples == [3.0, 1.0, 2.0]
        assert (metric.unit, metric.direction) == ("ns", "lower")
        assert view.result.benchmarks[0].params == {"n": "64"}
        rows = store.runs.sample_rows("abcd1234")
        assert [(r["repetition"], r["value"]) for r in rows] == [(1, 3.0), (2, 1.0), (3, 2.0)]

    def test_prefix_resolution(self, store) -> None:
        """A unique prefix of four or more characters names a run."""
        new_run(store, "abcd1234")
        new_run(store, "abcd9999")
        assert store.runs.resolve("abcd1") == "abcd1234"
        with pytest.raises(InputError, match="ambiguous"):
            store.runs.resolve("abcd")
        with pytest.raises(InputError, match='no run "abc"'):
            store.runs.resolve("abc")  # shorter than four characters: not a prefix
        with pytest.raises(InputError, match='no run "zzzz"'):
            store.runs.get("zzzz")

    def test_environment_and_repetitions(self, store) -> None:
        """Environment snapshots and repetition records are stored with the run."""
        new_run(store)
        store.runs.add_environment(
            "abcd1234", "before", {"hostname": "h", "kernel": "6", "cpu": {"model": "X"}}
        )
        store.runs.add_repetition(
            "abcd1234",
            {
                "step": "b0-r1",
                "kind": "run",
                "benchmark": "a",
                "index": 1,
                "exit_status": 0,
                "wall_ns": 5,
            },
        )
        view = store.runs.get("abcd1234")
        assert view.environments["before"]["cpu"]["model"] == "X"
        assert view.repetitions[0]["wall_ns"] == 5
        assert view.to_dict()["environment"]["hostname"] == "h"

    def test_list_filters_and_counts(self, store) -> None:
        """Listing is newest first, filterable, with benchmark counts."""
        new_run(store, "aaaa0001", job="x")
        new_run(store, "aaaa0002", job="y", status="failed")
        store.runs.add_results("aaaa0001", [(1, result([1.0], "a")), (1, result([1.0], "b"))])
        rows = store.runs.list()
        assert [r["run_id"] for r in rows] == ["aaaa0002", "aaaa0001"]
        assert store.runs.list(job="x")[0]["benchmarks"] == 2
        assert [r["run_id"] for r in store.runs.list(status="failed")] == ["aaaa0002"]

    def test_metric_table_of_a_run(self, store) -> None:
        """A run's keys by benchmark name (then as stored), how many values each has, and
        the values end to end, bit for bit; a run without samples has an empty table."""
        builder = ResultBuilder()
        builder.add_many("sort", "wall_time", [3.0, 1.0, 0.1 + 0.2], "ns", "lower")
        builder.add_many("sort", "max_rss", [7.0], "B", "lower")
        builder.add_many("scan", "wall_time", [2.5, 4.5], "ns", "lower")
        new_run(store, "run00001", status="completed")
        store.runs.add_results("run00001", [(1, builder.result)])
        new_run(store, "run00002", status="completed")
        keys, lengths, values = store.runs.metric_table("run00001")
        assert keys == [("scan", "wall_time"), ("sort", "wall_time"), ("sort", "max_rss")]
        assert lengths == [2, 3, 1]
        assert values.tolist() == [2.5, 4.5, 3.0, 1.0, 0.1 + 0.2, 7.0]
        keys, lengths, values = store.runs.metric_table("run00002")
        assert keys == [] and lengths == [] and values.size == 0

    def test_metric_names_of_a_job(self, store) -> None:
        """The (benchmark, metric) pairs of a job's completed runs, in the order first stored;
        failed runs and other jobs do not count."""
        builder = ResultBuilder()
        builder.add_many("sort", "wall_time", [1.0], "ns", "lower")
        builder.add_many("sort", "max_rss", [1.0], "B", "lower")
        builder.add_many("scan", "wall_time", [1.0], "ns", "lower")
        new_run(store, "run00001", status="completed")
        store.runs.add_results("run00001", [(1, builder.result)])
        new_run(store, "run00002", status="completed")
        store.runs.add_results("run00002", [(1, result([1.0], "sort"))])
        new_run(store, "run00003", status="failed")
        store.runs.add_results("run00003", [(1, result([1.0], "lost"))])
        new_run(store, "run00004", status="completed", job="other")
        store.runs.add_results("run00004", [(1, result([1.0], "elsewhere"))])
        assert store.runs.metric_names("j") == [
            ("sort", "wall_time"),
            ("sort", "max_rss"),
            ("scan", "wall_time"),
            ("sort", "time"),
        ]


class TestOpening:
    def test_reopening_does_not_migrate_again(self, tmp_path: Path) -> None:
        """A store at the newest schema opens without running migrations."""
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
        open_store(url).close()
        from sqlalchemy import create_engine, text

        with create_engine(url).connect() as conn:
            assert (
                conn.execute(text("select version_num from alembic_version")).scalar()
                == head_revision()
            )
        open_store(url).close()

    def test_unopenable_url_is_input_error(self, tmp_path: Path) -> None:
        """A PERFLAB_DB_URL that cannot be opened is exit 3 with the URL named."""
        with pytest.raises(InputError, match="cannot open database") as caught:
            open_store("nosuchdb://x/y")
        assert caught.value.exit_status == 3
        with pytest.raises(InputError, match="cannot open database"):
            open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
        with pytest.raises(InputError) as caught:
            open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
        assert "secret" not in str(caught.value), "passwords are never printed"
