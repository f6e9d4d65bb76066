"""The same store on the local PostgreSQL (nothing SQLite-specific), in a private database."""

from __future__ import annotations

from perflab.model import ResultBuilder
from perflab.store import open_store


class TestPostgres:
    def test_migrations_and_roundtrip(self, pg_url: str) -> None:
        """Migrations run on PostgreSQL; runs, samples, runners, baselines round-trip."""
        store = open_store(pg_url)
        try:
            store.runs.create_run(
                "pg000001",
                job="j",
                job_sha256="0" * 64,
                job_spec={"name": "j"},
                runner="local",
                status="completed",
                platform="linux-x86_64",
                perflab_version="t",
            )
            builder = ResultBuilder()
            builder.add_many("BM", "time", [3.5, 1.25, 2.0], "ns", "lower", params={"n": "8"})
            store.runs.add_results("pg000001", [(1, builder.result)])
            view = store.runs.get("pg00")
            assert view.result.benchmarks[0].metrics["time"].samples == [3.5, 1.25, 2.0]
            assert view.started_at.tzinfo is not None
            store.runners.add("r1", address="127.0.0.1", port=22, groups=["g"])
            assert store.runners.list(group="g")[0]["name"] == "r1"
            store.baselines.record(
                name="b",
                job="j",
                platform="linux-x86_64",
                branch="main",
                run_id="pg000001",
                action="set",
                reason=None,
                set_by="t",
            )
            assert (
                store.baselines.resolve("b", job="j", platform="linux-x86_64", branch="main")[
                    "run_id"
                ]
                == "pg000001"
            )
            assert store.runs.series("j", "BM", "time")[0]["samples"] == [3.5, 1.25, 2.0]
            assert store.runs.metric_names("j") == [("BM", "time")]
        finally:
            store.close()
        open_store(pg_url).close()  # at the newest revision: opens without migrating


class TestPostgresMigrations:
    def test_migrations_build_the_models_schema(self, pg_url: str) -> None:
        """Every migration runs on PostgreSQL and ends at the models' schema (a fresh store
        is created from the models instead, so the migrations are run here explicitly)."""
        import sqlalchemy
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from perflab.store.engine import head_revision, migrate
        from perflab.store.models import Base

        engine = sqlalchemy.create_engine(pg_url)
        try:
            with engine.begin() as conn:
                migrate(conn)
                assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
                version = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
                assert version.scalar_one() == head_revision()
        finally:
            engine.dispose()
