"""A runner's port may be unset (the SSH config's Port applies), also in older databases."""

from __future__ import annotations

from pathlib import Path

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")


def _migrate(conn: object, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    from perflab.store.engine import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)


class TestRunnerPort:
    def test_a_runner_without_port(self, tmp_path: Path, monkeypatch) -> None:
        """A runner registered without a port keeps none (None), not 22."""
        monkeypatch.setenv("PERFLAB_HOME", str(tmp_path))
        from perflab.store import open_store

        with open_store() as store:
            store.runners.add("lab1", address="lab1", port=None)
            store.runners.add("lab2", address="10.0.0.2", port=2222)
            assert store.runners.get("lab1")["port"] is None
            assert store.runners.get("lab2")["port"] == 2222

    def test_older_rows_with_22_for_not_given_become_unset(self, tmp_path: Path) -> None:
        """Migration 0007: a stored 22 that no ansible_port set becomes unset; a port an
        inventory set (22 included) and other ports stay."""
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        insert = sqlalchemy.text(
            "INSERT INTO runners (name, address, port, vars, groups, labels, state, "
            "created_at, updated_at) VALUES (:n, 'a', :p, :v, '[]', '{}', 'idle', "
            "'2026-01-01', '2026-01-01')"
        )
        with engine.begin() as conn:
            _migrate(conn, "0006")
            conn.execute(
                insert,
                [
                    {"n": "default", "p": 22, "v": "{}"},
                    {"n": "said22", "p": 22, "v": '{"ansible_port": 22}'},
                    {"n": "other", "p": 2222, "v": "{}"},
                ],
            )
            _migrate(conn, "head")
            rows = dict(conn.execute(sqlalchemy.text("SELECT name, port FROM runners")).all())
        engine.dispose()
        assert rows == {"default": None, "said22": 22, "other": 2222}
