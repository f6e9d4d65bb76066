"""Prepare and restore a runner as commands do: holding its host lock throughout.

The engine (:mod:`perflab.prepare.engine`) plans, applies and restores; these
are the calls the CLI and a queue worker make, so that no preparation or
restore ever runs beside another command on the same host (see
:mod:`perflab.prepare.lock`). A preparation left by a run whose controller
died is restored first, and the report says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict

from perflab import signals
from perflab.prepare import engine
from perflab.prepare.engine import PrepareReport, RestoreReport
from perflab.prepare.host import RunnerHost
from perflab.prepare.lock import host_lock
from perflab.prepare.playbook import Profile

log = logging.getLogger("perflab")


def prepare_runner(host: RunnerHost, profile: Profile, *, check: bool = False,
                   also: Sequence[str] = (), lock_wait: float | None = None,
                   ) -> tuple[engine.Session, PrepareReport]:
    """Plan ``profile`` on ``host`` and apply it (kept until ``perflab restore``), or only
    show what would change (``check``: nothing on the host changes, a stale preparation
    included, which is reported)."""
    with host_lock(host, "prepare --check" if check else "prepare", wait=lock_wait) as owner:
        notes = []
        if check:
            reason = engine.stale_reason(engine.prepared_state(host))
            if reason:
                notes.append(f"{host.name}: {reason}; the next command that prepares or "
                             f"runs on it restores it first (or `perflab restore {host.name}`)")
                log.warning(notes[-1])
        else:
            _, note = engine.recover_stale(host)
            notes += [note] if note else []
        session = engine.plan_profile(host, profile, also=also)
        if check:
            report = engine.check(session)
        else:
            with signals.deferred():  # a half-applied profile is worse than a late stop
                report = engine.apply(session, owner={**asdict(owner), "kind": "prepare"})
    report.notes = notes
    return session, report


def restore_runner(host: RunnerHost, *, lock_wait: float | None = None) -> RestoreReport:
    """Put back every value the host's state file records (safe to repeat)."""
    with host_lock(host, "restore", wait=lock_wait), signals.deferred():
        return engine.restore(host)
