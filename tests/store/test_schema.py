"""The schema the migrations build is the models' schema, and a fresh store gets the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")


def _schema(url: str) -> dict[str, Any]:
    """Tables, columns (type, nullability), primary and foreign keys, indexes, uniques."""
    engine = sqlalchemy.create_engine(url)
    try:
        inspector = sqlalchemy.inspect(engine)
        out = {}
        for table in sorted(inspector.get_table_names()):
            out[table] = {
                "columns": {
                    c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                },
                "pk": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
                "fks": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                    )
                    for f in inspector.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "uniques": sorted(
                    tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
                ),
            }
        with engine.connect() as conn:
            out["version"] = conn.execute(
                sqlalchemy.text("SELECT version_num FROM alembic_version")
            ).scalar_one()
        return out
    finally:
        engine.dispose()


class TestSchema:
    def test_fresh_store_equals_migrated_store(self, tmp_path: Path) -> None:
        """A store created from the models (fresh) and one built by every migration have
        the same tables, columns, keys and indexes, and the same revision."""
        from perflab.store.engine import create_engine_for, head_revision, migrate

        fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
        create_engine_for(fresh).dispose()
        migrated = f"sqlite:///{tmp_path / 'migrated.db'}"
        engine = sqlalchemy.create_engine(migrated)
        with engine.begin() as conn:
            migrate(conn)
        engine.dispose()
        assert _schema(fresh) == _schema(migrated)
        assert _schema(fresh)["version"] == head_revision()

    def test_models_match_the_migrations(self, tmp_path: Path) -> None:
        """Alembic's autogenerate finds nothing to change between the migrated database
        and the models (a model changed without a migration fails here)."""
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from perflab.store.engine import migrate
        from perflab.store.models import Base

        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
        with engine.begin() as conn:
            migrate(conn)
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        engine.dispose()
        assert diff == []

    def test_a_database_with_other_tables_is_not_taken_for_empty(self, tmp_path: Path) -> None:
        """A database that holds something else is migrated (Alembic), not overwritten."""
        from perflab.store.engine import create_engine_for, head_revision

        url = f"sqlite:///{tmp_path / 'other.db'}"
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
        engine.dispose()
        create_engine_for(url).dispose()
        schema = _schema(url)
        assert "notes" in schema and "runs" in schema and schema["version"] == head_revision()
