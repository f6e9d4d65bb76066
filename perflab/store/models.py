"""SQLAlchemy 2 models of the results store.

Nothing here is SQLite-specific: the same models run on PostgreSQL
(``PERFLAB_DB_URL``). The schema is versioned by Alembic migrations in
``perflab/store/migrations``; change a model only together with a migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Run(Base):
    """One execution of a job on one runner."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job: Mapped[str] = mapped_column(String(200), index=True)
    job_sha256: Mapped[str] = mapped_column(String(64))
    job_spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    job_path: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str] = mapped_column(String(200), index=True)
    platform: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    tuning: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_dirty: Mapped[bool | None] = mapped_column(Boolean)
    branch: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    experiment: Mapped[str | None] = mapped_column(String(64), index=True)
    variant: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    raw_dir: Mapped[str | None] = mapped_column(Text)
    #: the process that drives the run (perflab.controller.identity): a run left
    #: "running" by a controller that died is closed as failed by the next command
    controller: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: the queued job this run belongs to (None: a direct ``perflab run``)
    job_id: Mapped[str | None] = mapped_column(String(32), index=True)
    #: the sweep run this run is a part of, and its job matrix combination (None: neither)
    sweep_run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    matrix: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    perflab_version: Mapped[str] = mapped_column(String(32))

    benchmarks: Mapped[list[BenchmarkRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="BenchmarkRow.id"
    )
    repetitions: Mapped[list[Repetition]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Repetition.id"
    )
    environments: Mapped[list[Environment]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Environment.id"
    )
    artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Artifact.id"
    )


class BenchmarkRow(Base):
    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    run: Mapped[Run] = relationship(back_populates="benchmarks")
    metrics: Mapped[list[MetricRow]] = relationship(
        back_populates="benchmark", cascade="all, delete-orphan", order_by="MetricRow.id"
    )

    __table_args__ = (Index("ix_benchmarks_run_name", "run_id", "name", unique=True),)


class MetricRow(Base):
    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    benchmark_id: Mapped[int] = mapped_column(
        ForeignKey("benchmarks.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))

    #: every measured value, never only a mean: little-endian float64, in the order
    #: measured (perflab.store.packed); the repetition that produced each, int64
    sample_values: Mapped[bytes] = mapped_column(LargeBinary)
    sample_repetitions: Mapped[bytes] = mapped_column(LargeBinary)

    benchmark: Mapped[BenchmarkRow] = relationship(back_populates="metrics")


class Repetition(Base):
    """One process the harness started: setup step, warmup or measured run."""

    __tablename__ = "repetitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    benchmark: Mapped[str | None] = mapped_column(String(500))
    index: Mapped[int | None] = mapped_column(Integer)
    exit_status: Mapped[int | None] = mapped_column(Integer)
    signal: Mapped[int | None] = mapped_column(Integer)
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False)
    wall_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    user_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    sys_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    maxrss_kb: Mapped[int] = mapped_column(BigInteger, default=0)
    nvcsw: Mapped[int] = mapped_column(BigInteger, default=0)
    nivcsw: Mapped[int] = mapped_column(BigInteger, default=0)
    #: contamination evidence (hostside/contention.py, Contention): the share of the
    #: benchmark's CPUs' time other tasks used, and steal time, during the repetition's
    #: window; runnable tasks at its end; how many repetitions shared the window.
    #: None: not measured (a setup step, a host without /proc/stat, an older run)
    other_share: Mapped[float | None] = mapped_column(Double)
    steal_share: Mapped[float | None] = mapped_column(Double)
    runnable: Mapped[int | None] = mapped_column(Integer)
    evidence_window: Mapped[int | None] = mapped_column(Integer)
    stdout_path: Mapped[str | None] = mapped_column(Text)
    stderr_path: Mapped[str | None] = mapped_column(Text)
    output_path: Mapped[str | None] = mapped_column(Text)
    stderr_tail: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)

    run: Mapped[Run] = relationship(back_populates="repetitions")


class Environment(Base):
    """A snapshot of the host: before the run, after it, or after preparation."""

    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(32))
    hostname: Mapped[str | None] = mapped_column(String(255))
    kernel: Mapped[str | None] = mapped_column(String(255))
    cpu_model: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    run: Mapped[Run] = relationship(back_populates="environments")


class Artifact(Base):
    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    run: Mapped[Run] = relationship(back_populates="artifacts")


class RunnerRow(Base):
    """A registered machine: how to reach it, what it is, what state it is in."""

    __tablename__ = "runners"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    address: Mapped[str] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)  # None: the SSH config's Port, else 22
    user: Mapped[str | None] = mapped_column(String(100))
    key_file: Mapped[str | None] = mapped_column(Text)
    proxy_jump: Mapped[str | None] = mapped_column(Text)
    groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    vars: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    platform: Mapped[str | None] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(16), default="idle", index=True)
    state_reason: Mapped[str | None] = mapped_column(Text)
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    facts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    host_key: Mapped[str | None] = mapped_column(String(200))  # type and SHA256 fingerprint
    source: Mapped[str | None] = mapped_column(Text)  # "cli" or the inventory it came from
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BaselineRow(Base):
    """One `baseline set`: never updated, so the history is the table itself.

    The current baseline for (name, job, platform, branch) is its newest row.
    """

    __tablename__ = "baselines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    job: Mapped[str] = mapped_column(String(200), index=True)
    platform: Mapped[str] = mapped_column(String(200))
    branch: Mapped[str] = mapped_column(String(200))
    benchmark: Mapped[str] = mapped_column(String(500), default="*")  # glob over names
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))  # set | unset
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class WaiverRow(Base):
    """An accepted change: reported as waived until it expires or is exceeded."""

    __tablename__ = "waivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str | None] = mapped_column(String(200), index=True)  # None: any job
    benchmark: Mapped[str] = mapped_column(String(500))  # glob
    metric: Mapped[str] = mapped_column(String(200))  # glob
    platform: Mapped[str | None] = mapped_column(String(200))  # None: any platform
    magnitude: Mapped[float] = mapped_column(Double)  # expected |change|, e.g. 0.05
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The job queue's tables (bundles, jobs, events, leases, run files) share this Base.
from perflab.store import models_queue as _queue  # noqa: E402, F401
from perflab.store import models_sweep as _sweep  # noqa: E402, F401


class CalibrationRow(Base):
    """A runner's speed figure from ``perflab verify``'s noise probe: the time one iteration
    of the probe's fixed work loop took (median over the probed CPUs). Reports divide
    cross-platform ratios by it, so a faster clock is not mistaken for faster code."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    runner: Mapped[str] = mapped_column(String(200), index=True)
    platform: Mapped[str | None] = mapped_column(String(200))
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ns_per_iteration: Mapped[float] = mapped_column(Double)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
