"""Baselines (per job, platform class and branch; every change kept) and waivers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from perflab.errors import InputError
from perflab.store.models import BaselineRow, WaiverRow
from perflab.store.runs import _aware, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


def _baseline(row: BaselineRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "job": row.job,
        "platform": row.platform,
        "branch": row.branch,
        "benchmark": row.benchmark,
        "run_id": row.run_id,
        "action": row.action,
        "reason": row.reason,
        "set_by": row.set_by,
        "set_at": (_aware(row.set_at) or utcnow()).isoformat(),
    }


def _waiver(row: WaiverRow, now: datetime) -> dict[str, Any]:
    expires = _aware(row.expires_at) or now
    return {
        "id": row.id,
        "job": row.job,
        "benchmark": row.benchmark,
        "metric": row.metric,
        "platform": row.platform,
        "magnitude": row.magnitude,
        "reason": row.reason,
        "expires_at": expires.isoformat(),
        "created_by": row.created_by,
        "created_at": (_aware(row.created_at) or now).isoformat(),
        "revoked": row.revoked_at is not None,
        "active": row.revoked_at is None and expires > now,
    }


class BaselineStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(
        self,
        *,
        name: str,
        job: str,
        platform: str,
        branch: str,
        run_id: str | None,
        action: str,
        reason: str | None,
        set_by: str,
        benchmark: str = "*",
    ) -> None:
        with self._sessions.begin() as session:
            session.add(
                BaselineRow(
                    name=name,
                    job=job,
                    platform=platform,
                    branch=branch,
                    benchmark=benchmark,
                    run_id=run_id,
                    action=action,
                    reason=reason,
                    set_by=set_by,
                    set_at=utcnow(),
                )
            )

    def _keyed(
        self, session: Session, name: str | None = None, job: str | None = None
    ) -> list[BaselineRow]:
        query = select(BaselineRow).order_by(BaselineRow.set_at, BaselineRow.id)
        if name:
            query = query.where(BaselineRow.name == name)
        if job:
            query = query.where(BaselineRow.job == job)
        return list(session.scalars(query).all())

    def current(
        self,
        name: str | None = None,
        *,
        job: str | None = None,
        platform: str | None = None,
        branch: str | None = None,
    ) -> list[dict[str, Any]]:
        """The baselines in force (newest `set` per key, unless later unset), filtered."""
        with self._sessions() as session:
            latest: dict[tuple[str, str, str, str, str], BaselineRow] = {}
            for row in self._keyed(session, name, job):
                latest[(row.name, row.job, row.platform, row.branch, row.benchmark)] = row
        rows = [_baseline(r) for r in latest.values() if r.action == "set"]
        return [
            r
            for r in rows
            if (platform is None or r["platform"] == platform)
            and (branch is None or r["branch"] == branch)
        ]

    def resolve(
        self, name: str, *, job: str | None, platform: str | None, branch: str | None
    ) -> dict[str, Any]:
        """The one baseline ``name`` means for this job/platform/branch, or a clear error."""
        rows = self.current(name, job=job, platform=platform)
        if not rows:
            known = sorted({r["name"] for r in self.current()})
            where = ", ".join(f"{k}={v}" for k, v in (("job", job), ("platform", platform)) if v)
            raise InputError(
                f'no baseline "{name}"{f" for {where}" if where else ""}; '
                f"known baselines: {', '.join(known) or 'none'}",
                hint="`perflab baseline set NAME RUN` creates one",
            )
        if branch is not None and len(rows) > 1:
            same = [r for r in rows if r["branch"] == branch]
            rows = same or rows
        if len(rows) > 1:
            keys = "; ".join(
                f"job={r['job']} platform={r['platform']} branch={r['branch']}" for r in rows
            )
            raise InputError(
                f'baseline "{name}" is ambiguous ({keys}); compare a run of one '
                "job on one platform, or give --job/--platform"
            )
        return rows[0]

    def history(self, name: str, *, job: str | None = None) -> list[dict[str, Any]]:
        with self._sessions() as session:
            return [_baseline(r) for r in self._keyed(session, name, job)]

    # -- waivers -------------------------------------------------------------------------

    def add_waiver(self, **values: Any) -> int:
        with self._sessions.begin() as session:
            row = WaiverRow(created_at=utcnow(), **values)
            session.add(row)
            session.flush()
            return int(row.id)

    def revoke_waiver(self, waiver_id: int) -> None:
        with self._sessions.begin() as session:
            row = session.get(WaiverRow, waiver_id)
            if row is None:
                raise InputError(f"no waiver {waiver_id}", hint="see `perflab baseline waivers`")
            row.revoked_at = utcnow()

    def waivers(
        self, *, job: str | None = None, platform: str | None = None, include_inactive: bool = False
    ) -> list[dict[str, Any]]:
        now = utcnow()
        with self._sessions() as session:
            rows = [
                _waiver(r, now)
                for r in session.scalars(select(WaiverRow).order_by(WaiverRow.id)).all()
            ]
        return [
            w
            for w in rows
            if (include_inactive or w["active"])
            and (job is None or w["job"] in (None, job))
            and (platform is None or w["platform"] in (None, platform))
        ]
