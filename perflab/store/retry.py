"""Riding out a database that is away for a moment (a restart, a network blip).

A worker reports to the database all through a job; losing the connection for
a few seconds must not lose the job or what it measured. Every method of the
stores a worker uses is wrapped: on a transient error (the connection refused,
dropped or invalidated, SQLite busy) it is tried again, with growing pauses,
for up to ``PERFLAB_DB_RETRY_S`` seconds (default 60), then the error stands.
Each method is one transaction, so a retry repeats whole work, never half of it; a
commit may go through just before the connection drops, so what a retry repeats must
be harmless twice (adding a job's run id is: a second add finds it there).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("perflab")
T = TypeVar("T")
MARKERS = (
    "could not connect",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "connection reset",
    "broken pipe",
    "database is locked",
    "connection timed out",
    "timeout expired",
    "the database system is starting up",
    "the database system is shutting down",
    "ssl connection has been closed",
    "connection is closed",
    "no connection to the server",
    "lost connection",
)


def retry_window() -> float:
    try:
        return max(float(os.environ.get("PERFLAB_DB_RETRY_S") or 60), 0.0)
    except ValueError:
        return 60.0


def is_transient(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
    return any(marker in text for marker in MARKERS)


class _Outage:
    #: time.monotonic() when a retried call last got through (the database came back),
    #: in this process; None while it has never been away
    back_at: float | None = None


_outage = _Outage()


def back_since() -> float | None:
    """Seconds since this process last saw the database come back after being away (a
    call that failed transiently and then got through), or None if it never was away.

    While the database is away nobody can renew a lease, so a reaper that was cut off
    itself cannot tell a dead lease holder from the outage until holders have had a
    lease's time to renew (perflab.queue.reconcile)."""
    back_at = _outage.back_at
    return None if back_at is None else time.monotonic() - back_at


def retrying(func: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        deadline = time.monotonic() + retry_window()
        pause = 0.2
        away = False
        while True:
            try:
                result = func(*args, **kwargs)
                if away:
                    _outage.back_at = time.monotonic()
                return result
            except Exception as exc:
                if not is_transient(exc) or time.monotonic() + pause > deadline:
                    raise
                away = True
                log.warning(
                    "the database is away (%s); trying %s again in %.1f s",
                    str(exc).splitlines()[0][:120],
                    func.__name__,
                    pause,
                )
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    return wrapper


def retrying_methods(cls: type[T]) -> type[T]:
    """Wrap every public method of a store class with :func:`retrying`."""
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_"):
            setattr(cls, name, retrying(value))
    return cls
