"""Names for shell completion: runners, groups, baselines, run ids. Fast, read-only, quiet.

A TAB press starts a perflab process that must answer in a blink and must
never fail or change anything. So these queries

- read the default SQLite store with the standard library's ``sqlite3``,
  read-only (importing SQLAlchemy alone costs more than a TAB press should);
  other URLs (PostgreSQL) go through SQLAlchemy with a short connect timeout;
- never create, migrate or repair the store: no database yet means no names;
- answer ``[]`` on any error at all (a store that cannot be opened, an older
  schema, a damaged file): completion then offers what it knows without the
  store, and the commands themselves report the problem when run.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from perflab import config

#: how many run ids a TAB press offers at most (newest first)
MAX_RUNS = 50


def _sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL (None for anything else)."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = url[len("sqlite:///") :]
    return None if path in ("", ":memory:") else Path(path)


def _rows(sql: str, params: dict[str, Any]) -> list[Sequence[Any]]:
    """Rows of one read-only query (named parameters, ``:name``), or [] on any problem."""
    try:
        return _query(sql, params)
    except Exception:  # a TAB press never fails: see the module docstring
        return []


def _query(sql: str, params: dict[str, Any]) -> list[Sequence[Any]]:
    url = config.db_url()
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
        if path is None or not path.is_file():
            return []
        uri = f"file:{quote(str(path))}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as conn:
            return list(conn.execute(sql, params).fetchall())
    with _engine(url) as engine, engine.connect() as conn:
        from sqlalchemy import text

        return [tuple(row) for row in conn.execute(text(sql), params).all()]


@contextlib.contextmanager
def _engine(url: str) -> Iterator[Any]:
    from sqlalchemy import create_engine

    connect_args = {"connect_timeout": 2} if url.startswith("postgresql") else {}
    engine = create_engine(url, connect_args=connect_args)
    try:
        yield engine
    finally:
        engine.dispose()


def _starting(prefix: str) -> dict[str, Any]:
    """Parameters of ``substr(column, 1, :n) = :prefix``: starts with ``prefix`` (with no
    LIKE wildcards to escape)."""
    return {"n": len(prefix), "prefix": prefix}


def runner_names(prefix: str = "") -> list[str]:
    """Registered runners whose name starts with ``prefix``, sorted (``local`` is not
    registered: callers add it)."""
    rows = _rows(
        "SELECT name FROM runners WHERE substr(name, 1, :n) = :prefix ORDER BY name",
        _starting(prefix),
    )
    return [str(row[0]) for row in rows]


def group_names(prefix: str = "") -> list[str]:
    """Every group some registered runner is in, starting with ``prefix``, sorted."""
    groups: set[str] = set()
    for (value,) in _rows("SELECT groups FROM runners", {}):
        with contextlib.suppress(TypeError, ValueError):
            found = json.loads(value) if isinstance(value, str) else value
            groups.update(str(g) for g in found or [])
    return sorted(g for g in groups if g.startswith(prefix))


def baseline_names(prefix: str = "") -> list[str]:
    """Names of baselines ever set, starting with ``prefix``, sorted."""
    rows = _rows(
        "SELECT DISTINCT name FROM baselines WHERE substr(name, 1, :n) = :prefix ORDER BY name",
        _starting(prefix),
    )
    return [str(row[0]) for row in rows]


def run_ids(prefix: str = "", limit: int = MAX_RUNS) -> list[tuple[str, str]]:
    """(run id, "job on runner, status") of the newest runs whose id starts with
    ``prefix``, newest first."""
    rows = _rows(
        "SELECT id, job, runner, status FROM runs WHERE substr(id, 1, :n) = :prefix "
        "ORDER BY started_at DESC, id DESC LIMIT :limit",
        {**_starting(prefix), "limit": limit},
    )
    return [(str(i), f"{job} on {runner}, {status}") for i, job, runner, status in rows]
