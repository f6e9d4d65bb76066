"""Jobs: submitted, leased, run, finished; every transition recorded and fenced.

States: ``queued -> leased -> preparing -> running -> collecting -> done | failed |
cancelled``. A job leaves ``queued`` only in the transaction that takes a lease
on its runner (:meth:`JobStore.lease`), so two deliveries of one message, or two
workers, can never both start it; after that, every change checks the lease's
fencing token (:func:`perflab.store.leases.check_fence`).
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from perflab.errors import InputError
from perflab.store.leases import Fence, check_fence, release, take
from perflab.store.models_queue import BundleRow, JobEventRow, JobRow, LeaseRow
from perflab.store.retry import retrying_methods
from perflab.store.runs import _aware, utcnow
from perflab.store.states import ACTIVE, FINAL

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

#: why a job failed (``reason``), one word each
REASONS = (
    "invalid_job",
    "runner_unreachable",
    "runner_busy",
    "harness_failed",
    "benchmark_failed",
    "timed_out",
    "cancelled",
    "worker_lost",
    "interrupted",
    "runner_error",
)


class _Retreat(Exception):
    """Roll a transaction back on purpose."""


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware else None


def event_dict(row: JobEventRow) -> dict[str, Any]:
    return {
        "at": _iso(row.at),
        "state": row.state,
        "attempt": row.attempt,
        "token": row.token,
        "worker": row.worker,
        "runner": row.runner,
        "reason": row.reason,
        "message": row.message,
    }


def job_dict(row: JobRow, events: Iterable[JobEventRow] = ()) -> dict[str, Any]:
    return {
        "job_id": row.id,
        "name": row.name,
        "state": row.state,
        "reason": row.reason,
        "message": row.message,
        "target": {"kind": row.target_kind, "name": row.target},
        "runner": row.runner,
        "worker": row.worker,
        "attempt": row.attempt,
        "retries": row.retries,
        "priority": row.priority,
        "token": row.token,
        "run_ids": list(row.run_ids or []),
        "exit_status": row.exit_status,
        "bundle": row.bundle,
        "options": row.options or {},
        #: its combination of the job's matrix (a matrix job submitted, or a sweep's part)
        "matrix": dict((row.options or {}).get("matrix") or {}),
        "exclude": row.exclude or [],
        "cancel_requested": row.cancel_requested,
        "submitted_by": row.submitted_by,
        "submitted_at": _iso(row.submitted_at),
        "deadline": _iso(row.deadline),
        "enqueued_at": _iso(row.enqueued_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "updated_at": _iso(row.updated_at),
        "events": [event_dict(e) for e in events],
    }


def _event(
    session: Session,
    row: JobRow,
    state: str,
    *,
    reason: str | None = None,
    message: str | None = None,
    now: datetime | None = None,
) -> None:
    session.add(
        JobEventRow(
            job_id=row.id,
            at=now or utcnow(),
            state=state,
            attempt=row.attempt,
            token=row.token,
            worker=row.worker,
            runner=row.runner,
            reason=reason,
            message=message,
        )
    )


@retrying_methods
class JobStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- bundles ---------------------------------------------------------------------

    def put_bundle(
        self, sha256: str, *, job: str, spec: dict[str, Any], archive: bytes | None
    ) -> bool:
        """Store a bundle unless one with this content exists; True when stored now."""
        with self._sessions.begin() as session:
            if session.get(BundleRow, sha256) is not None:
                return False
            session.add(
                BundleRow(
                    sha256=sha256,
                    job=job,
                    spec=spec,
                    archive=archive,
                    size=len(archive or b""),
                    created_at=utcnow(),
                )
            )
            return True

    def bundle(self, sha256: str) -> dict[str, Any]:
        with self._sessions() as session:
            row = session.get(BundleRow, sha256)
            if row is None:
                raise InputError(f"no job bundle {sha256[:12]} in the store")
            return {
                "sha256": row.sha256,
                "job": row.job,
                "spec": row.spec,
                "archive": row.archive,
                "size": row.size,
            }

    # -- submitting and reading ------------------------------------------------------

    def submit(
        self,
        *,
        name: str,
        bundle: str,
        target_kind: str,
        target: str,
        options: dict[str, Any],
        priority: int = 0,
        retries: int = 1,
        deadline: datetime | None = None,
        submitted_by: str,
        exclude: Sequence[str] = (),
    ) -> str:
        now = utcnow()
        job_id = secrets.token_hex(6)
        with self._sessions.begin() as session:
            row = JobRow(
                id=job_id,
                name=name,
                bundle=bundle,
                target_kind=target_kind,
                target=target,
                options=options,
                priority=priority,
                state="queued",
                token=0,
                attempt=0,
                retries=retries,
                exclude=list(exclude),
                cancel_requested=False,
                run_ids=[],
                submitted_by=submitted_by,
                submitted_at=now,
                deadline=deadline,
                updated_at=now,
            )
            session.add(row)
            session.flush()  # the job's row before its first event (a foreign key)
            _event(session, row, "queued", message=f"submitted by {submitted_by}", now=now)
        return job_id

    def resolve(self, ref: str) -> str:
        """A full job id from an id or a unique prefix of at least 4 characters."""
        with self._sessions() as session:
            if session.get(JobRow, ref) is not None:
                return ref
            if len(ref) >= 4:
                found = session.scalars(
                    select(JobRow.id).where(JobRow.id.startswith(ref, autoescape=True)).limit(2)
                ).all()
                if len(found) == 1:
                    return found[0]
                if len(found) > 1:
                    raise InputError(f'job id prefix "{ref}" is ambiguous; give more of it')
        raise InputError(f'no job "{ref}" in the store (see `perflab jobs list`)')

    def get(self, ref: str) -> dict[str, Any]:
        job_id = self.resolve(ref)
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
            assert row is not None
            events = session.scalars(
                select(JobEventRow).where(JobEventRow.job_id == job_id).order_by(JobEventRow.id)
            ).all()
            return job_dict(row, events)

    def list(self, *, states: Sequence[str] = (), limit: int = 200) -> list[dict[str, Any]]:
        with self._sessions() as session:
            query = select(JobRow).order_by(JobRow.submitted_at.desc()).limit(limit)
            if states:
                query = query.where(JobRow.state.in_(list(states)))
            return [job_dict(r) for r in session.scalars(query).all()]

    def depth(self) -> builtins.list[dict[str, Any]]:
        """Queued jobs per target (runner, group or platform)."""
        with self._sessions() as session:
            rows = session.execute(
                select(JobRow.target_kind, JobRow.target, func.count())
                .where(JobRow.state == "queued")
                .group_by(JobRow.target_kind, JobRow.target)
            ).all()
            return [{"kind": k, "target": t, "queued": int(n)} for k, t, n in rows]

    def queued_for(
        self, runner: str, groups: Sequence[str], platform: str | None, *, limit: int = 20
    ) -> builtins.list[dict[str, Any]]:
        """Queued jobs ``runner`` could take, best first (priority, then age)."""
        wanted = (JobRow.target_kind == "runner") & (JobRow.target == runner)
        if groups:
            wanted |= (JobRow.target_kind == "group") & JobRow.target.in_(list(groups))
        if platform:
            wanted |= (JobRow.target_kind == "platform") & (JobRow.target == platform)
        with self._sessions() as session:
            rows = session.scalars(
                select(JobRow)
                .where(JobRow.state == "queued", wanted)
                .order_by(JobRow.priority.desc(), JobRow.submitted_at)
                .limit(limit)
            ).all()
            return [job_dict(r) for r in rows if runner not in (r.exclude or [])]

    # -- the life of a job -----------------------------------------------------------

    def mark_enqueued(self, job_id: str) -> None:
        """A message pointing at the job was published (now)."""
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            if row is not None:
                row.enqueued_at = utcnow()

    def mark_consumed(self, job_id: str) -> None:
        """A worker took the job's message and did not start it (no runner of its was
        free): no message points at it now, so the next runner let go sends one."""
        with self._sessions.begin() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == "queued")
                .values(enqueued_at=None)
                .execution_options(synchronize_session=False)
            )

    def lease(
        self,
        job_id: str,
        runner: str,
        worker: str,
        ttl: float,
        controller: dict[str, Any] | None = None,
    ) -> Fence | None:
        """Start ``job_id`` on ``runner``: in one transaction the runner's lease is taken
        and the job leaves ``queued``. None when either is no longer possible (the runner
        is busy, the job started elsewhere, was cancelled, or this message is a repeat)."""
        now = utcnow()
        try:
            with self._sessions.begin() as session:
                row = session.get(JobRow, job_id)
                if (
                    row is None
                    or row.state != "queued"
                    or row.cancel_requested
                    or runner in (row.exclude or [])
                ):
                    return None
                token = take(
                    session, runner, worker, ttl, job_id=job_id, now=now, controller=controller
                )
                if token is None:
                    return None
                claimed = session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.state == "queued")
                    .values(
                        state="leased",
                        token=token,
                        runner=runner,
                        worker=worker,
                        attempt=JobRow.attempt + 1,
                        started_at=now,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    raise _Retreat  # another worker took the job meanwhile: free the runner
                session.refresh(row)
                _event(session, row, "leased", message=f"runner {runner}, token {token}", now=now)
                return Fence(job_id, token, runner)
        except _Retreat:
            return None

    def transition(self, fence: Fence, state: str, *, message: str | None = None) -> None:
        """Move a running job on (preparing, running, collecting), fenced."""
        with self._sessions.begin() as session:
            check_fence(session, fence)
            row = session.get(JobRow, fence.job_id)
            assert row is not None
            row.state = state
            _event(session, row, state, message=message)

    def add_run(self, fence: Fence, run_id: str) -> None:
        with self._sessions.begin() as session:
            check_fence(session, fence)
            row = session.get(JobRow, fence.job_id)
            assert row is not None
            if run_id not in (row.run_ids or []):  # a retry after a lost commit adds nothing
                row.run_ids = [*(row.run_ids or []), run_id]

    def finish(
        self,
        fence: Fence,
        state: str,
        *,
        exit_status: int | None = None,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """End the job (done, failed, cancelled) and let go of its runner, fenced."""
        with self._sessions.begin() as session:
            check_fence(session, fence)
            row = session.get(JobRow, fence.job_id)
            assert row is not None
            row.state, row.exit_status, row.reason, row.message = (
                state,
                exit_status,
                reason,
                message,
            )
            row.finished_at = utcnow()
            _event(session, row, state, reason=reason, message=message)
            release(session, fence.runner, fence.token)

    def watch(self, fence: Fence) -> dict[str, Any]:
        """What a running job's worker polls: still ours? cancel asked for?"""
        with self._sessions() as session:
            row = session.get(JobRow, fence.job_id)
            ours = row is not None and row.token == fence.token and row.state in ACTIVE
            return {
                "ours": ours,
                "cancel": bool(row and row.cancel_requested),
                "state": row.state if row else None,
            }

    def requeue_or_fail(
        self,
        runner: str,
        token: int,
        *,
        reason: str,
        message: str,
        exclude_runner: bool = False,
        free: bool = False,
    ) -> dict[str, Any] | None:
        """The lease ``token`` on ``runner`` is over without its worker ending the job
        (the worker died, the runner was lost): let the runner go and queue the job again
        when it has retries left (never on ``runner`` again when ``exclude_runner``), else
        fail it; ``free``: the attempt did not start (the runner was busy), it does not
        count. Returns the job after, or None when the lease had moved on already."""
        now = utcnow()
        with self._sessions.begin() as session:
            lease = session.get(LeaseRow, runner)
            if lease is None or lease.token != token:
                return None
            job_id = lease.job_id
            release(session, runner, token)
            row = session.get(JobRow, job_id) if job_id else None
            if row is None or row.token != token or row.state not in ACTIVE:
                return None
            if free:
                row.attempt -= 1
            _event(
                session,
                row,
                "failed" if row.attempt > row.retries else "queued",
                reason=reason,
                message=message,
                now=now,
            )
            if row.attempt > row.retries:
                row.state, row.reason, row.message, row.finished_at = "failed", reason, message, now
            else:
                row.state, row.runner, row.worker, row.enqueued_at = "queued", None, None, None
                if exclude_runner and row.target_kind != "runner":
                    row.exclude = [*(row.exclude or []), runner]
            row.updated_at = now
            return job_dict(row)

    def cancel(self, ref: str) -> dict[str, Any]:
        """A queued job is cancelled at once; a running one is asked to stop (its worker
        stops the benchmark, restores the host, keeps what was measured)."""
        job_id = self.resolve(ref)
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            assert row is not None
            if row.state in FINAL:
                raise InputError(f"job {job_id} is {row.state} already: nothing to cancel")
            now = utcnow()
            if row.state == "queued":
                row.state, row.reason, row.finished_at = "cancelled", "cancelled", now
                _event(
                    session,
                    row,
                    "cancelled",
                    reason="cancelled",
                    message="cancelled while queued",
                    now=now,
                )
            else:
                row.cancel_requested = True
                _event(session, row, row.state, message="cancel requested", now=now)
            row.updated_at = now
            return job_dict(row)

    def retry(self, ref: str) -> dict[str, Any]:
        """Queue a failed or cancelled job again (a new attempt, on any allowed runner)."""
        job_id = self.resolve(ref)
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            assert row is not None
            if row.state not in ("failed", "cancelled"):
                raise InputError(
                    f"job {job_id} is {row.state}: only a failed or cancelled job can be retried",
                    hint="submit the job again to run it anew",
                )
            now = utcnow()
            row.state, row.reason, row.message, row.exit_status = "queued", None, None, None
            row.cancel_requested, row.finished_at, row.enqueued_at = False, None, None
            row.runner, row.worker, row.exclude = None, None, []
            row.retries = max(row.retries, row.attempt)  # this attempt is allowed
            row.updated_at = now
            _event(session, row, "queued", message="retried", now=now)
            return job_dict(row)

    def fail_queued(self, job_id: str, *, reason: str, message: str) -> bool:
        """A queued job that cannot start (past its deadline, no runner): failed."""
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            if row is None or row.state != "queued":
                return False
            now = utcnow()
            row.state, row.reason, row.message, row.finished_at = "failed", reason, message, now
            row.updated_at = now
            _event(session, row, "failed", reason=reason, message=message, now=now)
            return True

    def queued_before(self, when: datetime) -> builtins.list[dict[str, Any]]:
        """Queued jobs whose last message went out before ``when`` (or never)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(JobRow).where(
                    JobRow.state == "queued",
                    (JobRow.enqueued_at.is_(None)) | (JobRow.enqueued_at < when),
                )
            ).all()
            return [job_dict(r) for r in rows]
