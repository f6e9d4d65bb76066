"""Runner leases: who holds a runner until when, with a fencing token.

A runner runs one job at a time, ever. Taking a runner is one atomic
conditional update (it works alike on SQLite and PostgreSQL): the lease row is
taken only when nobody holds it or its holder stopped renewing it, and its
``token`` grows by one. The holder renews (heartbeats) before ``expires_at``;
every write of its job checks the token (:class:`Fence`), so a holder that was
paused or cut off, and whose lease another took, can never write again.

Both a queue worker (for a job) and ``perflab run`` (for itself) take the same
lease, so a direct run and a queued job never share a runner. Below it, the
host lock on the runner itself (``perflab.prepare.lock``) holds even for
controllers with different databases.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update

from perflab.errors import PerflabError
from perflab.store.models_queue import JobRow, LeaseRow
from perflab.store.retry import retrying_methods
from perflab.store.runs import _aware, utcnow
from perflab.store.states import ACTIVE

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


class LeaseLost(PerflabError):
    """The lease (and so the job) moved on: this holder's token is stale; it may not write."""


@dataclass(frozen=True)
class Fence:
    """What a job's writes carry: the job and the token of the lease its worker holds."""

    job_id: str
    token: int
    runner: str


def check_fence(session: Session, fence: Fence, now: datetime | None = None) -> None:
    """In a write transaction: the job is still this fence's and still running, or raise
    :class:`LeaseLost` (the caller's transaction then rolls back). The update takes the
    job row's write lock, so no other transaction can move the job on before commit."""
    done = session.execute(
        update(JobRow)
        .where(JobRow.id == fence.job_id, JobRow.token == fence.token, JobRow.state.in_(ACTIVE))
        .values(updated_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(
            f"job {fence.job_id}: the lease on runner {fence.runner} moved on "
            f"(token {fence.token} is stale); this worker may not write"
        )


def _ensure(session: Session, runner: str) -> None:
    """The runner's lease row exists (inserted once, whoever comes first)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    session.execute(
        insert(LeaseRow)
        .values(runner=runner, token=0, failures=0)
        .on_conflict_do_nothing(index_elements=["runner"])
    )


def take(
    session: Session,
    runner: str,
    holder: str,
    ttl: float,
    *,
    job_id: str | None = None,
    now: datetime | None = None,
    controller: dict[str, Any] | None = None,
) -> int | None:
    """In a transaction: take ``runner``'s lease if it is free (or its holder's expired);
    the new token, or None when someone holds it."""
    now = now or utcnow()
    _ensure(session, runner)
    free = or_(LeaseRow.holder.is_(None), LeaseRow.expires_at < now)
    done = session.execute(
        update(LeaseRow)
        .where(LeaseRow.runner == runner, free)
        .values(
            token=LeaseRow.token + 1,
            holder=holder,
            job_id=job_id,
            acquired_at=now,
            heartbeat_at=now,
            expires_at=now + timedelta(seconds=ttl),
            controller=controller,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return int(session.scalars(select(LeaseRow.token).where(LeaseRow.runner == runner)).one())


def lease_dict(row: LeaseRow, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    expires = _aware(row.expires_at)
    held = row.holder is not None and expires is not None and expires >= now
    return {
        "runner": row.runner,
        "token": row.token,
        "job_id": row.job_id,
        "holder": row.holder,
        "held": held,
        "expired": row.holder is not None and not held,
        "acquired_at": _iso(row.acquired_at),
        "heartbeat_at": _iso(row.heartbeat_at),
        "expires_at": _iso(row.expires_at),
        "failures": row.failures,
        "controller": row.controller,
    }


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware else None


@retrying_methods
class LeaseStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def acquire(
        self, runner: str, holder: str, ttl: float, controller: dict[str, Any] | None = None
    ) -> int | None:
        """Take ``runner`` for a holder that is not a queued job (``perflab run``)."""
        with self._sessions.begin() as session:
            return take(session, runner, holder, ttl, controller=controller)

    def release_dead(
        self,
        runner: str,
        is_gone: Callable[[dict[str, Any] | None], bool],
    ) -> dict[str, Any] | None:
        """Let go of ``runner``'s lease if a direct run holds it and its process ``is_gone``
        (killed on this machine): the lease it held, else None. A queued job's lease is
        never let go here: the reconciler ends its job first."""
        with self._sessions.begin() as session:
            row = session.get(LeaseRow, runner)
            if (
                row is None
                or row.holder is None
                or row.job_id is not None
                or not is_gone(row.controller)
            ):
                return None
            held = lease_dict(row)
            release(session, runner, row.token)
            return held

    def heartbeat(self, runner: str, token: int, ttl: float) -> bool:
        """Renew the lease; False when it is no longer this token's (expired and taken)."""
        now = utcnow()
        with self._sessions.begin() as session:
            done = session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.runner == runner, LeaseRow.token == token, LeaseRow.holder.is_not(None)
                )
                .values(heartbeat_at=now, expires_at=now + timedelta(seconds=ttl))
                .execution_options(synchronize_session=False)
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def release(self, runner: str, token: int) -> bool:
        """Let go of the lease (only if it is still this token's)."""
        with self._sessions.begin() as session:
            return release(session, runner, token)

    def get(self, runner: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            row = session.get(LeaseRow, runner)
            return lease_dict(row) if row is not None else None

    def list(self) -> list[dict[str, Any]]:
        now = utcnow()
        with self._sessions() as session:
            rows = session.scalars(select(LeaseRow).order_by(LeaseRow.runner)).all()
            return [lease_dict(r, now) for r in rows]

    def expired(self) -> builtins.list[dict[str, Any]]:
        """Leases whose holder stopped renewing them (a worker died, a link broke)."""
        now = utcnow()
        with self._sessions() as session:
            rows = session.scalars(
                select(LeaseRow).where(LeaseRow.holder.is_not(None), LeaseRow.expires_at < now)
            ).all()
            return [lease_dict(r, now) for r in rows]

    def note_reachable(self, runner: str, reachable: bool) -> int:
        """Count a runner's unreachable attempts in a row; returns the count."""
        with self._sessions.begin() as session:
            _ensure(session, runner)
            row = session.get(LeaseRow, runner)
            assert row is not None
            row.failures = 0 if reachable else row.failures + 1
            return row.failures


def release(session: Session, runner: str, token: int) -> bool:
    done = session.execute(
        update(LeaseRow)
        .where(LeaseRow.runner == runner, LeaseRow.token == token)
        .values(holder=None, job_id=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]
