"""Registered runners: add, import (all or nothing), read, change state, store facts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from perflab.errors import InputError
from perflab.secret_vars import scrub
from perflab.store.models import RunnerRow
from perflab.store.retry import retrying_methods
from perflab.store.runs import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

LOCAL = "local"  # the built-in runner (perflab.runners.LOCAL): never a row here
STATES = ("idle", "reserved", "running", "quarantined", "offline")
FIELDS = (
    "address",
    "port",
    "user",
    "key_file",
    "proxy_jump",
    "groups",
    "labels",
    "vars",
    "platform",
    "host_key",
    "source",
)


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """The columns to write: known fields only, and never a secret variable (the callers
    refuse or report them; this is the last guard, for every writer)."""
    values = {k: v for k, v in data.items() if k in FIELDS}
    if "vars" in values:
        values["vars"] = scrub(values["vars"] or {})[0]
    return values


def runner_dict(row: RunnerRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "address": row.address,
        "port": row.port,
        "user": row.user,
        "key_file": row.key_file,
        "proxy_jump": row.proxy_jump,
        "groups": row.groups or [],
        "labels": row.labels or {},
        "vars": scrub(row.vars or {})[0],
        "platform": row.platform,
        "state": row.state,
        "state_reason": row.state_reason,
        "state_changed_at": row.state_changed_at.isoformat() if row.state_changed_at else None,
        "facts": row.facts,
        "facts_at": row.facts_at.isoformat() if row.facts_at else None,
        "host_key": row.host_key,
        "source": row.source,
    }


@retrying_methods
class RunnerStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def _get(self, session: Session, name: str) -> RunnerRow:
        if name == LOCAL:
            raise InputError(
                f'"{LOCAL}" is the built-in runner (this machine): it is not '
                "registered, so it has no registration or state to change"
            )
        row = session.get(RunnerRow, name)
        if row is None:
            known = session.scalars(select(RunnerRow.name).order_by(RunnerRow.name)).all()
            listing = ", ".join([LOCAL, *known][:12])
            raise InputError(
                f'unknown runner "{name}"; known runners: {listing}',
                hint="see `perflab runner list`",
            )
        return row

    def add(self, name: str, **values: Any) -> None:
        """Register one runner; a name that exists already is an input error."""
        with self._sessions.begin() as session:
            if name == "local" or session.get(RunnerRow, name) is not None:
                raise InputError(
                    f'a runner named "{name}" is already registered',
                    hint=f"`perflab runner remove {name}` first, or pick another name",
                )
            now = utcnow()
            session.add(
                RunnerRow(
                    name=name, state="idle", created_at=now, updated_at=now, **_values(values)
                )
            )

    def upsert_many(self, runners: Sequence[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """Register or update many runners in one transaction: all of them or none."""
        added, updated = [], []
        with self._sessions.begin() as session:
            now = utcnow()
            for data in runners:
                name = data["name"]
                if name == "local":
                    raise InputError('"local" is the built-in runner; rename that host')
                row = session.get(RunnerRow, name)
                values = _values(data)
                if row is None:
                    session.add(
                        RunnerRow(name=name, state="idle", created_at=now, updated_at=now, **values)
                    )
                    added.append(name)
                else:
                    for key, value in values.items():
                        setattr(row, key, value)
                    row.updated_at = now
                    updated.append(name)
        return added, updated

    def get(self, name: str) -> dict[str, Any]:
        with self._sessions() as session:
            return runner_dict(self._get(session, name))

    def exists(self, name: str) -> bool:
        with self._sessions() as session:
            return session.get(RunnerRow, name) is not None

    def list(
        self, *, group: str | None = None, platform: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        with self._sessions() as session:
            query = select(RunnerRow).order_by(RunnerRow.name)
            if platform:
                query = query.where(RunnerRow.platform == platform)
            if state:
                query = query.where(RunnerRow.state == state)
            rows = [runner_dict(r) for r in session.scalars(query).all()]
        return [r for r in rows if group is None or group in r["groups"]]

    def remove(self, name: str) -> None:
        with self._sessions.begin() as session:
            session.delete(self._get(session, name))

    def set_state(self, name: str, state: str, reason: str | None = None) -> None:
        if state not in STATES:
            raise InputError(f"expected one of {', '.join(STATES)}, got {state!r}", field="state")
        with self._sessions.begin() as session:
            row = self._get(session, name)
            row.state, row.state_reason, row.state_changed_at = state, reason, utcnow()

    def set_facts(self, name: str, facts: dict[str, Any], platform: str | None = None) -> None:
        with self._sessions.begin() as session:
            row = self._get(session, name)
            row.facts, row.facts_at = facts, utcnow()
            if platform and not row.platform:
                row.platform = platform

    def set_host_key(self, name: str, host_key: str) -> None:
        with self._sessions.begin() as session:
            self._get(session, name).host_key = host_key
