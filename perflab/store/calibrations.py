"""Runners' calibration figures (from ``perflab verify``): record, and read the newest."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from perflab.store.models import CalibrationRow
from perflab.store.retry import retrying_methods
from perflab.store.runs import _aware, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


def _row(row: CalibrationRow) -> dict[str, Any]:
    return {
        "runner": row.runner,
        "platform": row.platform,
        "measured_at": (_aware(row.measured_at) or utcnow()).isoformat(),
        "ns_per_iteration": row.ns_per_iteration,
        "details": row.details or {},
    }


@retrying_methods
class CalibrationStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(
        self,
        runner: str,
        ns_per_iteration: float,
        *,
        platform: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        with self._sessions.begin() as session:
            session.add(
                CalibrationRow(
                    runner=runner,
                    platform=platform,
                    measured_at=utcnow(),
                    ns_per_iteration=ns_per_iteration,
                    details=details or {},
                )
            )

    def latest(self, runner: str, *, before: datetime | None = None) -> dict[str, Any] | None:
        """The runner's newest figure (measured before ``before``, when given; else the
        newest of all, so a run measured before its runner was ever verified still has one)."""
        query = (
            select(CalibrationRow)
            .where(CalibrationRow.runner == runner)
            .order_by(CalibrationRow.measured_at.desc(), CalibrationRow.id.desc())
        )
        with self._sessions() as session:
            rows = session.scalars(query.limit(200)).all()
        if not rows:
            return None
        if before is not None:
            earlier = [r for r in rows if (_aware(r.measured_at) or utcnow()) <= before]
            if earlier:
                return _row(earlier[0])
        return _row(rows[0])
