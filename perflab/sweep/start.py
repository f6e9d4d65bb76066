"""A sweep run: the sweep's frozen job queued once per platform (and matrix combination).

:func:`start_run` is what ``perflab sweep run`` and a scheduler tick (in a worker)
call. The sweep run is recorded ``starting`` with every part first (a part
skipped for want of a runner is final at once, the others pending), so that a
reconciler never sees half of it; then each pending part's job is queued for an
idle runner of its platform (waiting up to the sweep's deadline), and the sweep
run becomes ``running``. It ends (``finished``) when every part's job has
ended: the store's ``sweeps.refresh`` follows them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError
from perflab.queue.submit import connect, enqueue
from perflab.spec.job import parse_job
from perflab.spec.matrix import combinations
from perflab.sweep.schedule import TICK
from perflab.sweep.targets import plan

if TYPE_CHECKING:
    from celery import Celery

    from perflab.store import Store

log = logging.getLogger("perflab")


def _job_of(store: Store, sweep: dict[str, Any]) -> Any:
    bundle = store.jobs.bundle(sweep["bundle"])
    spec = bundle["spec"]
    return parse_job(spec["job_yaml"], f"bundle:{bundle['sha256'][:12]}/{spec['job_file']}")


def start_run(
    store: Store, app: Celery, name: str, *, trigger: str = "manual", trigger_id: str | None = None
) -> str | None:
    """Start a sweep run of sweep ``name``; its id, or None when ``trigger_id`` (a
    scheduler message delivered twice) started one already."""
    sweep = store.sweeps.get(name)
    job = _job_of(store, sweep)
    cells = combinations(job.raw)
    parts = plan(store, sweep["targets"])
    conn = connect(app)
    try:
        run_id = store.sweeps.start_run(sweep, trigger=trigger, trigger_id=trigger_id)
        if run_id is None:
            return None
        pending = []
        for part in parts:
            for cell in cells:
                part_id = store.sweeps.add_part(
                    run_id,
                    platform=part.platform,
                    target_kind=part.kind,
                    target=part.target,
                    matrix=cell,
                    state="skipped" if part.skip else "pending",
                    reason="no_runner" if part.skip else None,
                    message=part.skip,
                )
                if part.skip is None:
                    pending.append((part_id, part, cell))
        try:
            for part_id, part, cell in pending:
                options = {
                    "env": {},
                    "baseline": None,
                    "timeout": job.job_timeout,
                    "sweep_run": run_id,
                    "matrix": cell,
                }
                job_id = enqueue(
                    store,
                    app,
                    conn,
                    name=job.name,
                    bundle=sweep["bundle"],
                    kind=part.kind,
                    target=part.target,
                    options=options,
                    deadline_s=sweep["deadline_s"],
                    exclude=part.exclude,
                )
                store.sweeps.set_part_job(part_id, job_id)
        except Exception as exc:  # the store went away: what was queued runs, the rest fails
            store.sweeps.fail_unqueued(run_id, f"not queued: {exc}")
            raise
        store.sweeps.running(run_id)
    finally:
        conn.release()
    store.sweeps.refresh(run_id)
    return run_id


def bind_ticks(app: Celery) -> None:
    """Register the scheduler's tick task on a worker's app: a tick starts a sweep run
    (once per message: its id is the sweep run's trigger)."""

    def sweep_tick(self: Any, name: str, **_: Any) -> str:
        from perflab.queue.worker import process_store

        try:
            run_id = start_run(
                process_store(), app, name, trigger="schedule", trigger_id=str(self.request.id)
            )
        except InputError as exc:  # removed meanwhile
            log.warning("sweep %s not started: %s", name, exc)
            return "not started"
        log.warning("sweep %s: sweep run %s", name, run_id or "started already")
        return run_id or "started already"

    app.task(name=TICK, bind=True, acks_late=True)(sweep_tick)
