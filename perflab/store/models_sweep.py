"""Sweeps: a job (or job matrix) fanned out over platforms on a schedule.

A sweep's definition names a frozen job bundle (``bundles``), its targets and
its schedule (which lives in Redis, with RedBeat; the row keeps what was asked
for, to show it and to put it back). Each execution of a sweep is a sweep run;
each of its parts is one platform and one matrix combination: a queued job, or
a part skipped with the reason (no runner of that platform).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Double, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from perflab.store.models import Base


class SweepRow(Base):
    __tablename__ = "sweeps"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    job: Mapped[str] = mapped_column(String(200))  # the job's name
    bundle: Mapped[str] = mapped_column(ForeignKey("bundles.sha256"))
    targets: Mapped[list[Any]] = mapped_column(JSON)  # [{"kind": platform|group, "name": ..}]
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON)  # cron + timezone, or every (s)
    baseline_policy: Mapped[str] = mapped_column(String(200))
    deadline_s: Mapped[float] = mapped_column(Double)  # a part waits this long for a runner
    matrix: Mapped[int] = mapped_column(Integer, default=1)  # jobs per platform
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SweepRunRow(Base):
    """One execution of a sweep (kept when the sweep is removed: its runs remain)."""

    __tablename__ = "sweep_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sweep: Mapped[str] = mapped_column(String(200), index=True)
    job: Mapped[str] = mapped_column(String(200))
    bundle: Mapped[str] = mapped_column(String(64))
    baseline_policy: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    #: the scheduler message's id: a message delivered twice starts one sweep run
    trigger_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # starting|running|finished
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SweepPartRow(Base):
    """One platform (and matrix combination) of a sweep run."""

    __tablename__ = "sweep_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sweep_run_id: Mapped[str] = mapped_column(
        ForeignKey("sweep_runs.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(200))
    target_kind: Mapped[str] = mapped_column(String(16))  # platform | group
    target: Mapped[str] = mapped_column(String(200))
    matrix: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | ran | failed | skipped
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    exit_status: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
