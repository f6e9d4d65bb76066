"""Prepare and restore a runner as commands do: holding its host lock throughout.

The engine (:mod:`perflab.prepare.engine`) plans, applies and restores; these
are the calls the CLI and a queue worker make, so that no preparation or
restore ever runs beside another command on the same host (see
:mod:`perflab.prepare.lock`). A preparation left by a run whose controller
died is restored first, and the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perflab import signals
from perflab.prepare import engine
from perflab.prepare.engine import PrepareReport, RestoreReport
from perflab.prepare.host import RunnerHost
from perflab.prepare.lock import host_lock
from perflab.spec.playbook import Profile


def prepare_runner(
    host: RunnerHost,
    profile: Profile,
    *,
    check: bool = False,
    also: Sequence[str] = (),
    also_commands: dict[str, Any] | None = None,
    lock_wait: float | None = None,
) -> tuple[engine.Session, PrepareReport]:
    """Plan ``profile`` on ``host`` and apply it (kept until ``perflab restore``), holding
    the host lock; a preparation left by a dead run is restored first. ``check`` only
    reads the host and shows what would change: it changes nothing, takes no lock (as
    ``runner facts`` takes none) and costs no extra round trip."""
    if check:
        session = engine.plan_profile(host, profile, also=also, also_commands=also_commands)
        return session, engine.check(session)
    with host_lock(host, "prepare", wait=lock_wait) as held:
        _, note = engine.recover_stale(host, held.state)
        session = engine.plan_profile(host, profile, also=also, also_commands=also_commands)
        with signals.deferred():  # a half-applied profile is worse than a late stop
            report = engine.apply(session, owner=held.owner_record("prepare"))
    report.notes = [note] if note else []
    return session, report


def restore_runner(host: RunnerHost, *, lock_wait: float | None = None) -> RestoreReport:
    """Put back every value the host's state file records (safe to repeat)."""
    with host_lock(host, "restore", wait=lock_wait), signals.deferred():
        return engine.restore(host)
