"""The job queue's tables: frozen job bundles, jobs and their history, runner leases,
and the raw files of runs (so every controller and worker reads them).

The database is the source of truth for jobs (a broker message only points at
one): a job's state changes and every write of its run check the fencing token
of the lease its worker holds, so a stale worker can never write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from perflab.store.models import Base


class BundleRow(Base):
    """A job frozen at submit time: its spec as loaded, the profile it names, and its
    workdir as one archive. Content-addressed: the same job and files are one row."""

    __tablename__ = "bundles"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    job: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # job YAML text, profile, workdir kind
    archive: Mapped[bytes | None] = mapped_column(LargeBinary)  # tar.gz of the workdir
    size: Mapped[int] = mapped_column(BigInteger)  # bytes of the archive
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JobRow(Base):
    """One submitted job: where it may run, its state, and the runs it produced."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    bundle: Mapped[str] = mapped_column(ForeignKey("bundles.sha256"))
    target_kind: Mapped[str] = mapped_column(String(16))  # runner | group | platform
    target: Mapped[str] = mapped_column(String(200))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # env, baseline ...
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(32))  # the class of a failure
    message: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str | None] = mapped_column(String(200), index=True)  # leased runner
    worker: Mapped[str | None] = mapped_column(String(200))
    token: Mapped[int] = mapped_column(BigInteger, default=0)  # the lease's fencing token
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=1)  # attempts allowed after the 1st
    exclude: Mapped[list[Any]] = mapped_column(JSON, default=list)  # runners not to retry on
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    run_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    exit_status: Mapped[int | None] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # to start by
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_jobs_queue", "state", "priority", "submitted_at"),)


class JobEventRow(Base):
    """One transition of a job, with its time, the worker and the attempt's token."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    token: Mapped[int] = mapped_column(BigInteger, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    runner: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)


class LeaseRow(Base):
    """Who holds a runner, until when. ``token`` grows on every acquisition: the
    fencing token that every write of the holder's job checks."""

    __tablename__ = "leases"

    runner: Mapped[str] = mapped_column(String(200), primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger, default=0)
    job_id: Mapped[str | None] = mapped_column(String(32))
    holder: Mapped[str | None] = mapped_column(String(200))  # a worker, or a direct run
    acquired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # unreachable in a row
    #: the process holding it (perflab.controller.identity): a direct run's lease whose
    #: process died on this machine is taken over at once, not after it expires
    controller: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RunFileRow(Base):
    """A raw output, log or artifact of a run, compressed: readable from any machine
    that shares the database (``results show``, ``jobs logs``)."""

    __tablename__ = "run_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(500))  # path within the run folder
    size: Mapped[int] = mapped_column(BigInteger)  # bytes of the original file
    sha256: Mapped[str] = mapped_column(String(64))  # of the original file
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)  # over the size limit
    compression: Mapped[str] = mapped_column(String(8))  # "zlib" | "none"
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_run_files_run_name", "run_id", "name", unique=True),)
