"""Open the database behind ``PERFLAB_DB_URL`` and bring its schema up to date.

The schema is migrated with Alembic on open; a database already at the
newest revision costs one small query, so opening the store stays cheap, and
an empty one is created from the models and stamped (Alembic is not loaded).
A URL that cannot be opened is an input error (exit 3) naming the URL.

An SQLite database is owner-only: the file (and its -wal, -shm files) 0600,
``$PERFLAB_HOME`` 0700, also when an older perflab left them looser.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab import config
from perflab.errors import InputError
from perflab.limits import DB_CONNECT_TIMEOUT_S

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


#: what to install for a database driver SQLAlchemy could not import (by its module)
DRIVERS = {
    "psycopg": "pip install 'perflab[postgres]'",
    "psycopg2": "pip install psycopg2-binary, or use a postgresql+psycopg:// URL with "
    "pip install 'perflab[postgres]'",
    "MySQLdb": "pip install mysqlclient",
    "pymysql": "pip install PyMySQL",
}


def _missing_driver(url: str, exc: ModuleNotFoundError, field: str) -> InputError:
    module = (exc.name or "").split(".")[0]
    install = DRIVERS.get(module, f"install the package that provides the {module} module")
    return InputError(
        f"cannot open database {config.mask_url(url)!r}: its driver ({module}) "
        f"is not installed: {install}",
        field=field,
    )


def head_revision() -> str:
    """The newest migration, read from the versions folder without loading Alembic."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r'^revision\s*=\s*"([^"]+)"', text, re.MULTILINE)
        down = re.search(r'^down_revision\s*=\s*"([^"]+)"', text, re.MULTILINE)
        if rev:
            revisions.add(rev.group(1))
        if down:
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {sorted(heads)}")
    return heads.pop()


def _current_revision(conn: Connection) -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _is_empty(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return not inspect(conn).get_table_names()


def create_fresh(conn: Connection) -> None:
    """An empty database gets the models' schema in one go and is stamped at the newest
    revision (what the migrations would build: tests/store/test_schema.py holds them to
    it), without loading Alembic."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

    from perflab.store.models import Base

    Base.metadata.create_all(conn)
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=head_revision()))


def migrate(conn: Connection) -> bool:
    """Bring the schema to the newest revision. True when a migration scrubbed data whose
    old bytes may linger in the file's free space (0004: secrets), for the caller to
    purge once the transaction is over."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")
    return bool(cfg.attributes.get("purge_free_space"))


def _private_sqlite(path: Path) -> None:
    """The database file and its companions are owner-only (SQLite gives a new -wal,
    -shm or -journal file the database's mode); $PERFLAB_HOME or a folder made for the
    database is 0700."""
    if path.parent == config.home():
        config.ensure_home()
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.private_file(path)
    for suffix in ("-wal", "-shm", "-journal", ".lock"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            config.tighten(companion, 0o600)


def _purge_free_space(engine: Engine) -> None:
    """Rewrite an SQLite file so that no old copy of a scrubbed value survives in its free
    pages or its write-ahead log (an updated or deleted row leaves its old bytes there)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


#: PostgreSQL advisory lock key held while a schema is created or migrated ("perflab")
SCHEMA_LOCK_KEY = 0x7065_7266_6C61_62


@contextlib.contextmanager
def _schema_lock(conn: Connection, url: str) -> Iterator[None]:
    """One process at a time creates or migrates a schema: an advisory lock on
    PostgreSQL (released with the transaction), an flock beside a SQLite file."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        yield
        return
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path or path == ":memory:":
        yield
        return
    import fcntl

    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _bring_up_to_date(engine: Engine, url: str) -> bool:
    """Create an empty database's schema or migrate an old one; a database already at
    the newest revision costs one small query and no lock. True when a migration asks
    for the file's free space to be purged (secrets scrubbed)."""
    head = head_revision()
    with engine.connect() as conn:
        if _current_revision(conn) == head:
            return False
    with engine.begin() as conn, _schema_lock(conn, url):
        current = _current_revision(conn)  # again: another process may have done it
        if current is None and _is_empty(conn):
            create_fresh(conn)
        elif current != head:
            return migrate(conn)
    return False


def _configured_url() -> tuple[str, str]:
    """The db_url setting, and how an error names it: its variable, or the setting and
    the file's line it came from."""
    setting = config.settings().db_url
    if setting.source.startswith("environment"):
        return setting.value, "PERFLAB_DB_URL"
    return setting.value, f"db_url ({setting.source})"


def create_engine_for(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the configured one), schema up to date."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

    url, field = (url, "PERFLAB_DB_URL") if url else _configured_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///") :])
        try:
            _private_sqlite(path)
        except OSError as exc:
            raise InputError(
                f"cannot create the database {path}: {exc.strerror}", field=field
            ) from None
    try:
        timeout = _connect_timeout(url)
        engine = create_engine(
            url,
            future=True,
            pool_pre_ping=True,
            connect_args=({"connect_timeout": timeout} if timeout is not None else {}),
        )
    except ModuleNotFoundError as exc:
        raise _missing_driver(url, exc, field) from None
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise InputError(
            f"cannot open database {config.mask_url(url)!r}: {exc}", field=field
        ) from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    try:
        purge = _bring_up_to_date(engine, url)
        if purge and engine.dialect.name == "sqlite":
            _purge_free_space(engine)
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        hint = None
        if "timeout expired" in reason or "timed out" in reason:
            waited = _url_timeout(url) or DB_CONNECT_TIMEOUT_S
            reason = f"no answer within {waited} s ({reason})"
            hint = (
                "is the server up and is this its address? ?connect_timeout=N in "
                "PERFLAB_DB_URL waits longer"
            )
        raise InputError(
            f"cannot open database {config.mask_url(url)!r}: {reason}", field=field, hint=hint
        ) from None
    return engine


def _url_timeout(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    value = make_url(url).query.get("connect_timeout")
    return value if isinstance(value, str) or value is None else value[-1]


def _connect_timeout(url: str) -> int | None:
    """DB_CONNECT_TIMEOUT_S for PostgreSQL unless the URL sets its own (libpq and psycopg
    otherwise wait forever for a server that accepts and never answers); None elsewhere
    (SQLite has no server, PyMySQL already waits 10 s)."""
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() != "postgresql" or _url_timeout(url) is not None:
        return None
    return DB_CONNECT_TIMEOUT_S
