"""The store keeps no secret and lets nobody else read it: owner-only home and database,
secrets scrubbed from rows written before, and their old bytes gone from the file."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from perflab.store import open_store

sqlalchemy = pytest.importorskip("sqlalchemy")

SECRET = "S3cr3t-store-do-not-keep"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database_bytes(db: Path) -> bytes:
    """The database file and its -wal, -shm and -journal companions."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "perflab-home"
    monkeypatch.setenv("PERFLAB_HOME", str(folder))
    monkeypatch.delenv("PERFLAB_DB_URL", raising=False)
    return folder


class TestOwnerOnly:
    def test_fresh_home_and_database(self, home: Path) -> None:
        """$PERFLAB_HOME is created 0700, the database and its WAL files 0600."""
        with open_store() as store:
            store.runners.add("r1", address="127.0.0.1")
            db = home / "perflab.db"
            assert mode(home) == 0o700
            companions = list(home.glob("perflab.db*"))
            assert {p.name for p in companions} >= {"perflab.db", "perflab.db-wal"}
            assert all(mode(p) == 0o600 for p in companions), [
                (p, oct(mode(p))) for p in companions
            ]
        assert db.exists()

    def test_loose_modes_from_before_are_tightened(self, home: Path) -> None:
        """A home and database created with looser modes are made owner-only on open."""
        with open_store() as store:
            store.runners.add("r1", address="127.0.0.1")
        home.chmod(0o755)
        for path in home.glob("perflab.db*"):
            path.chmod(0o644)
        with open_store() as store:
            assert store.runners.get("r1")["address"] == "127.0.0.1"
            assert mode(home) == 0o700
            assert all(mode(p) == 0o600 for p in home.glob("perflab.db*"))

    def test_a_folder_shared_with_other_files_is_left_alone(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A home that holds other things too ($HOME, /var/lib ...) keeps its mode; the
        database perflab keeps in it is owner-only all the same."""
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o755)
        (shared / "notes.txt").write_text("not perflab's\n")
        monkeypatch.setenv("PERFLAB_HOME", str(shared))
        monkeypatch.delenv("PERFLAB_DB_URL", raising=False)
        open_store().close()
        assert mode(shared) == 0o755
        assert mode(shared / "perflab.db") == 0o600

    def test_database_elsewhere(self, tmp_path: Path) -> None:
        """A database named by PERFLAB_DB_URL is owner-only too; a folder perflab creates
        for it is 0700."""
        db = tmp_path / "new-folder" / "lab.db"
        open_store(f"sqlite:///{db}").close()
        assert mode(db) == 0o600 and mode(db.parent) == 0o700


class TestNoSecretStored:
    def test_store_drops_secrets_whoever_writes(self, home: Path) -> None:
        """add and upsert_many (the library, not only the CLI) keep no secret variable."""
        with open_store() as store:
            store.runners.add(
                "r1", address="127.0.0.1", vars={"ansible_password": SECRET, "perflab_keepalive": 5}
            )
            store.runners.upsert_many(
                [{"name": "r2", "address": "127.0.0.2", "vars": {"db": {"password": SECRET}}}]
            )
            assert store.runners.get("r1")["vars"] == {"perflab_keepalive": 5}
            assert store.runners.get("r2")["vars"] == {"db": {}}
        assert SECRET.encode() not in database_bytes(home / "perflab.db")


def old_database(db: Path) -> None:
    """A database as perflab wrote it before secrets were filtered: migrated to 0003, one
    runner whose variables hold secrets and were rewritten (an older, longer copy went to
    overflow pages, now free), one removed (its row's bytes left in free space), with
    secure_delete off."""
    from alembic import command
    from alembic.config import Config

    from perflab.store.engine import MIGRATIONS
    from perflab.store.models import RunnerRow

    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA secure_delete=OFF")
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        table = RunnerRow.__table__
        now = datetime.now(UTC)
        for name in ("old", "gone"):
            conn.execute(
                table.insert().values(
                    name=name,
                    address="127.0.0.9",
                    port=22,
                    groups=[],
                    labels={},
                    state="idle",
                    vars={"note": "x" * 6000, "ansible_become_password": SECRET},
                    created_at=now,
                    updated_at=now,
                )
            )
        conn.execute(
            table.update()
            .where(table.c.name == "old")
            .values(
                vars={"note": "short", "ansible_become_password": SECRET, "perflab_keepalive": 5}
            )
        )
        conn.execute(table.delete().where(table.c.name == "gone"))
    engine.dispose()
    assert SECRET.encode() in database_bytes(db)


class TestOlderDatabases:
    def test_secrets_in_rows_from_before_are_scrubbed_on_open(self, home: Path) -> None:
        """Opening a database written before migrates it: the secret variables are gone
        from the rows and from every byte of the database files."""
        home.mkdir(mode=0o700)
        db = home / "perflab.db"
        old_database(db)
        with open_store() as store:
            assert store.runners.get("old")["vars"] == {"note": "short", "perflab_keepalive": 5}
        assert SECRET.encode() not in database_bytes(db)

    def test_the_scrub_runs_once(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The scrub is a migration: once the database is at the newest revision, opening
        it migrates (and rewrites) nothing."""
        from perflab.store import engine

        home.mkdir(mode=0o700)
        old_database(home / "perflab.db")
        open_store().close()

        def no_migration(conn: object) -> bool:
            raise AssertionError("migrated again")

        monkeypatch.setattr(engine, "migrate", no_migration)
        monkeypatch.setattr(engine, "_purge_free_space", no_migration)
        with open_store() as store:
            assert store.runners.get("old")["vars"] == {"note": "short", "perflab_keepalive": 5}
