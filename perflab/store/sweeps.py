"""Sweeps, sweep runs and their parts (see ``models_sweep``).

A part's state follows its queued job: ``pending`` while the job is queued or
running, then ``ran`` (the job is done: exit status 0, or 2 when it found a
regression), ``failed`` (the job failed or was cancelled; its reason, such as
``runner_busy`` when no runner became free before the deadline), or
``skipped`` from the start (no runner of that platform). :meth:`SweepStore.refresh`
brings parts up to date from the jobs table and closes a sweep run when none is
pending; workers' reconcilers call it every round, readers before they read.
"""

from __future__ import annotations

import builtins
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from perflab.errors import InputError
from perflab.store.models import Run
from perflab.store.models_queue import JobRow
from perflab.store.models_sweep import SweepPartRow, SweepRow, SweepRunRow
from perflab.store.retry import retrying_methods
from perflab.store.runs import _aware, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

PART_STATES = ("pending", "ran", "failed", "skipped")


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware else None


def sweep_dict(row: SweepRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "job": row.job,
        "bundle": row.bundle,
        "targets": list(row.targets or []),
        "schedule": dict(row.schedule or {}),
        "baseline_policy": row.baseline_policy,
        "deadline_s": row.deadline_s,
        "matrix": row.matrix,
        "created_by": row.created_by,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def part_dict(row: SweepPartRow, run_ids: builtins.list[str]) -> dict[str, Any]:
    return {
        "platform": row.platform,
        "target": {"kind": row.target_kind, "name": row.target},
        "matrix": dict(row.matrix or {}),
        "job_id": row.job_id,
        "state": row.state,
        "reason": row.reason,
        "message": row.message,
        "exit_status": row.exit_status,
        "finished_at": _iso(row.finished_at),
        "run_ids": run_ids,
    }


def _outcome(parts: builtins.list[dict[str, Any]]) -> str:
    """complete (every part ran), partial (some did), none (no part ran), or running."""
    states = {p["state"] for p in parts}
    if "pending" in states:
        return "running"
    if states <= {"ran"} and parts:
        return "complete"
    return "partial" if "ran" in states else "none"


def _part_from_job(part: SweepPartRow, job: JobRow, now: datetime) -> None:
    if job.state == "done":
        part.state, part.reason = "ran", None
        part.message = "a regression was found" if job.exit_status == 2 else job.message
    elif job.state in ("failed", "cancelled"):
        part.state, part.reason, part.message = "failed", job.reason or job.state, job.message
    else:
        return
    part.exit_status, part.finished_at = job.exit_status, job.finished_at or now


@retrying_methods
class SweepStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- definitions -----------------------------------------------------------------

    def add(
        self,
        *,
        name: str,
        job: str,
        bundle: str,
        targets: builtins.list[dict[str, str]],
        schedule: dict[str, Any],
        baseline_policy: str,
        deadline_s: float,
        matrix: int,
        created_by: str,
    ) -> dict[str, Any]:
        now = utcnow()
        with self._sessions.begin() as session:
            if session.get(SweepRow, name) is not None:
                raise InputError(
                    f'a sweep "{name}" exists already',
                    field="NAME",
                    hint=f"`perflab sweep remove {name}` first, or pick another name",
                )
            row = SweepRow(
                name=name,
                job=job,
                bundle=bundle,
                targets=targets,
                schedule=schedule,
                baseline_policy=baseline_policy,
                deadline_s=deadline_s,
                matrix=matrix,
                created_by=created_by,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            return sweep_dict(row)

    def get(self, name: str) -> dict[str, Any]:
        with self._sessions() as session:
            row = session.get(SweepRow, name)
            if row is None:
                known = session.scalars(select(SweepRow.name).order_by(SweepRow.name)).all()
                raise InputError(
                    f'no sweep "{name}" (known: {", ".join(known) or "none"})',
                    field="NAME",
                    hint="see `perflab sweep list`",
                )
            return sweep_dict(row)

    def list(self) -> builtins.list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(select(SweepRow).order_by(SweepRow.name)).all()
            out = []
            for row in rows:
                entry = sweep_dict(row)
                last = session.scalars(
                    select(SweepRunRow)
                    .where(SweepRunRow.sweep == row.name)
                    .order_by(SweepRunRow.started_at.desc())
                    .limit(1)
                ).first()
                entry["last_run"] = (
                    None
                    if last is None
                    else {
                        "sweep_run_id": last.id,
                        "state": last.state,
                        "started_at": _iso(last.started_at),
                    }
                )
                out.append(entry)
            return out

    def remove(self, name: str) -> None:
        """The definition goes; its sweep runs and their runs stay (history)."""
        self.get(name)
        with self._sessions.begin() as session:
            row = session.get(SweepRow, name)
            if row is not None:
                session.delete(row)

    # -- sweep runs ------------------------------------------------------------------

    def start_run(
        self, sweep: dict[str, Any], *, trigger: str, trigger_id: str | None = None
    ) -> str | None:
        """A new sweep run of ``sweep``; None when ``trigger_id`` started one already (a
        scheduler message delivered twice)."""
        run_id = secrets.token_hex(6)
        try:
            with self._sessions.begin() as session:
                session.add(
                    SweepRunRow(
                        id=run_id,
                        sweep=sweep["name"],
                        job=sweep["job"],
                        bundle=sweep["bundle"],
                        baseline_policy=sweep["baseline_policy"],
                        trigger=trigger,
                        trigger_id=trigger_id,
                        state="starting",
                        started_at=utcnow(),
                    )
                )
        except IntegrityError:
            return None
        return run_id

    def add_part(
        self,
        sweep_run_id: str,
        *,
        platform: str,
        target_kind: str,
        target: str,
        matrix: dict[str, str],
        job_id: str | None = None,
        state: str = "pending",
        reason: str | None = None,
        message: str | None = None,
    ) -> int:
        with self._sessions.begin() as session:
            row = SweepPartRow(
                sweep_run_id=sweep_run_id,
                platform=platform,
                target_kind=target_kind,
                target=target,
                matrix=matrix,
                job_id=job_id,
                state=state,
                reason=reason,
                message=message,
                finished_at=None if state == "pending" else utcnow(),
            )
            session.add(row)
            session.flush()
            return int(row.id)

    def set_part_job(self, part_id: int, job_id: str) -> None:
        """The job queued for a pending part."""
        with self._sessions.begin() as session:
            row = session.get(SweepPartRow, part_id)
            if row is not None:
                row.job_id = job_id

    def fail_unqueued(self, sweep_run_id: str, message: str) -> None:
        """Starting the sweep run stopped half-way: the parts with no job yet fail with
        ``message`` (reason ``not_queued``), and the sweep run goes on with the others."""
        now = utcnow()
        with self._sessions.begin() as session:
            for part in session.scalars(
                select(SweepPartRow).where(
                    SweepPartRow.sweep_run_id == sweep_run_id,
                    SweepPartRow.state == "pending",
                    SweepPartRow.job_id.is_(None),
                )
            ).all():
                part.state, part.reason, part.message, part.finished_at = (
                    "failed",
                    "not_queued",
                    message,
                    now,
                )
        self.running(sweep_run_id)

    def running(self, sweep_run_id: str) -> None:
        """Every part of a starting sweep run is recorded and queued: it runs (and ends
        when its parts have)."""
        with self._sessions.begin() as session:
            row = session.get(SweepRunRow, sweep_run_id)
            if row is not None and row.state == "starting":
                row.state = "running"

    def refresh(self, sweep_run_id: str) -> bool:
        """Parts follow their jobs; the sweep run ends when no part is pending (True then,
        and when it had ended before)."""
        now = utcnow()
        with self._sessions.begin() as session:
            run = session.get(SweepRunRow, sweep_run_id)
            if run is None or run.state != "running":
                return run is not None and run.state == "finished"
            parts = session.scalars(
                select(SweepPartRow).where(SweepPartRow.sweep_run_id == sweep_run_id)
            ).all()
            for part in parts:
                if part.state == "pending" and part.job_id:
                    job = session.get(JobRow, part.job_id)
                    if job is not None:
                        _part_from_job(part, job, now)
            if all(p.state != "pending" for p in parts):
                run.state, run.finished_at = "finished", now
                return True
            return False

    def refresh_open(self) -> builtins.list[str]:
        """Refresh every running sweep run; the ids of those that ended now."""
        with self._sessions() as session:
            open_ids = session.scalars(
                select(SweepRunRow.id).where(SweepRunRow.state == "running")
            ).all()
        return [i for i in open_ids if self.refresh(i)]

    def resolve(self, ref: str) -> str:
        """A full sweep run id from an id or a unique prefix of at least 4 characters."""
        with self._sessions() as session:
            if session.get(SweepRunRow, ref) is not None:
                return ref
            if len(ref) >= 4:
                found = session.scalars(
                    select(SweepRunRow.id)
                    .where(SweepRunRow.id.startswith(ref, autoescape=True))
                    .limit(2)
                ).all()
                if len(found) == 1:
                    return found[0]
        raise InputError(
            f'no sweep run "{ref}" in the store (see `perflab sweep history NAME`)',
            field="SWEEP_RUN",
        )

    def parts(self, sweep_run_ref: str) -> builtins.list[dict[str, Any]]:
        """The parts of a sweep run: for each platform (and matrix combination) its state
        (pending, ran, failed, skipped), reason, message, job and the runs it produced.
        What a report of a sweep run reads."""
        sweep_run_id = self.resolve(sweep_run_ref)
        self.refresh(sweep_run_id)
        with self._sessions() as session:
            parts = session.scalars(
                select(SweepPartRow)
                .where(SweepPartRow.sweep_run_id == sweep_run_id)
                .order_by(SweepPartRow.id)
            ).all()
            runs: dict[str | None, builtins.list[str]] = {}
            for run_id, job_id in session.execute(
                select(Run.id, Run.job_id)
                .where(Run.sweep_run_id == sweep_run_id)
                .order_by(Run.started_at)
            ).all():
                runs.setdefault(job_id, []).append(run_id)
            return [part_dict(p, runs.get(p.job_id, []) if p.job_id else []) for p in parts]

    def run(self, sweep_run_ref: str) -> dict[str, Any]:
        """A sweep run with its parts and outcome (complete, partial, none, running)."""
        parts = self.parts(sweep_run_ref)
        sweep_run_id = self.resolve(sweep_run_ref)
        with self._sessions() as session:
            row = session.get(SweepRunRow, sweep_run_id)
            assert row is not None
            return {
                "sweep_run_id": row.id,
                "sweep": row.sweep,
                "job": row.job,
                "bundle": row.bundle,
                "baseline_policy": row.baseline_policy,
                "trigger": row.trigger,
                "state": row.state,
                "outcome": _outcome(parts),
                "started_at": _iso(row.started_at),
                "finished_at": _iso(row.finished_at),
                "parts": parts,
            }

    def history(self, name: str, *, limit: int = 20) -> builtins.list[dict[str, Any]]:
        """The newest sweep runs of sweep ``name`` (also after it was removed), newest first."""
        with self._sessions() as session:
            ids = session.scalars(
                select(SweepRunRow.id)
                .where(SweepRunRow.sweep == name)
                .order_by(SweepRunRow.started_at.desc())
                .limit(limit)
            ).all()
        if not ids:
            self.get(name)  # an unknown name is an error; a sweep never run has no history
        return [self.run(i) for i in ids]
