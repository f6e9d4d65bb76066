"""``perflab submit``: freeze a job, record it (queued), point a message at it.

Everything that can be refused is refused before anything is stored or sent:
an invalid job (it was loaded and validated by the caller), a target that
names no runner, a workdir over the bundle limit, a broker that cannot be
reached. Then the bundle and the job's row are stored and one message is
published; if publishing fails after that, the job stays queued and a
worker's reconciler publishes it again.

A job with a ``matrix:`` is one queued job per combination (as a sweep queues
it on each platform): one bundle, each job's options naming its combination.
"""

from __future__ import annotations

import getpass
import logging
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from perflab.errors import ExitStatus, InputError, PerflabError
from perflab.queue.app import send
from perflab.queue.bundle import freeze

if TYPE_CHECKING:
    from celery import Celery

    from perflab.spec.job import Job
    from perflab.spec.playbook import Profile
    from perflab.store import Store

KINDS = ("runner", "group", "platform")
log = logging.getLogger("perflab")
DEFAULT_DEADLINE_S = 24 * 3600.0


class BrokerUnreachable(PerflabError):
    """The message broker cannot be reached (exit status 1, a service is down)."""

    exit_status = ExitStatus.ERROR


@dataclass(frozen=True)
class Submission:
    job: Job
    kind: str  # runner | group | platform
    target: str
    profile: Profile | None = None
    baseline: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    deadline_s: float = DEFAULT_DEADLINE_S  # to start by, from now
    retries: int = 1  # attempts after the first when a runner or worker is lost


def target_of(
    job: Job, runner: str | None, group: str | None, platform: str | None
) -> tuple[str, str]:
    """Where the job may run: one of the options, else the job's ``runs_on``, else local."""
    given = [(k, v) for k, v in (("runner", runner), ("group", group), ("platform", platform)) if v]
    if len(given) > 1:
        raise InputError("name one of --runner, --group or --platform", field="--runner")
    if given:
        return given[0]
    for kind in KINDS:
        if job.runs_on.get(kind):
            return kind, str(job.runs_on[kind])
    return "runner", "local"


def job_counters(job: Job) -> list[str]:
    """Every counter the job's benchmarks ask for (docs/counters.md)."""
    return sorted({c for bench in job.benchmarks for c in bench.counters})


def check_target(store: Store, kind: str, target: str, counters: list[str] | None = None) -> None:
    """The target names at least one registered runner, and for a group or platform one
    whose stored facts say it can count what the job asks (exit 3 otherwise)."""
    from perflab.facts.counting import missing_counter

    if kind == "runner":
        if target != "local":
            store.runners.get(target)  # an unknown runner is an InputError naming the known
        return
    found = (
        store.runners.list(group=target) if kind == "group" else store.runners.list(platform=target)
    )
    if not found:
        raise InputError(
            f'no runner in {kind} "{target}"', field=f"--{kind}", hint="see `perflab runner list`"
        )
    able = [
        r
        for r in found
        if not missing_counter((r.get("facts") or {}).get("counting"), tuple(counters or ()))
    ]
    if counters and not able:
        raise InputError(
            f'expected a runner in {kind} "{target}" that can count '
            f"{', '.join(counters)}, got none ({len(found)} runner"
            f"{'s' * (len(found) != 1)}: valgrind or perf missing, or their facts "
            "never gathered)",
            field="counters",
            hint="`perflab runner facts` reads what each runner can count",
        )


def broker_error(url: str, exc: BaseException) -> BrokerUnreachable:
    from perflab.config import redact

    return BrokerUnreachable(
        f"cannot reach the message broker at {redact(url)}: {exc or type(exc).__name__}",
        hint="start Redis (`redis-server --daemonize yes`, or the compose file in "
        "docs/deployment.md) or set PERFLAB_BROKER_URL; `perflab config show` shows it",
    )


def connect(app: Celery, timeout: float = 5.0) -> Any:
    """A live broker connection, or :class:`BrokerUnreachable` (no kombu traceback)."""
    options = {
        **app.conf.broker_transport_options,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }  # a broker that accepts and never answers
    conn = app.connection_for_write(transport_options=options)
    try:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as exc:
        conn.release()
        raise broker_error(app.conf.broker_url, exc) from None
    return conn


def publish(app: Celery, conn: Any, job: dict[str, Any]) -> None:
    send(
        app,
        job,
        connection=conn,
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.2},
    )


def enqueue(
    store: Store,
    app: Celery,
    conn: Any,
    *,
    name: str,
    bundle: str,
    kind: str,
    target: str,
    options: dict[str, Any],
    deadline_s: float = DEFAULT_DEADLINE_S,
    priority: int = 0,
    retries: int = 1,
    exclude: tuple[str, ...] = (),
) -> str:
    """Record a job of a stored bundle (queued) and send its message; the job's id. A
    message that cannot be sent is sent again later by a worker's reconciler."""
    from perflab.store.runs import utcnow

    job_id = store.jobs.submit(
        name=name,
        bundle=bundle,
        target_kind=kind,
        target=target,
        options=options,
        priority=priority,
        retries=retries,
        exclude=exclude,
        submitted_by=f"{getpass.getuser()}@{socket.gethostname()}",
        deadline=utcnow() + timedelta(seconds=deadline_s),
    )
    try:
        publish(app, conn, store.jobs.get(job_id))
        store.jobs.mark_enqueued(job_id)
    except Exception as exc:  # stored and queued: a worker's reconciler sends it again
        log.warning(
            "job %s is queued, but its message could not be sent (%s); a worker sends it again",
            job_id,
            exc,
        )
    return job_id


@dataclass(frozen=True)
class Queued:
    """One queued job of a submission: its id, and its combination of the job's matrix
    (empty without a matrix)."""

    job_id: str
    matrix: dict[str, str] = field(default_factory=dict)


def submit_all(store: Store, app: Celery, submission: Submission) -> list[Queued]:
    """Store the frozen job once and queue it once per combination of its matrix, as a
    sweep does (once without a matrix); the queued jobs in the matrix's order. Each
    combination is expanded and checked here first, so that a refusal queues nothing;
    the worker runs a job's own combination of the frozen job (``options["matrix"]``).
    The expansion is bounded when the job is loaded (``matrix_max``, exit 3)."""
    from perflab.spec.matrix import cell_of, combinations

    job = submission.job
    cells = combinations(job.raw)  # [{}] without a matrix
    each = [cell_of(job, cell) if cell else job for cell in cells]
    counters = [job_counters(one) for one in each]
    for asked in sorted({tuple(c) for c in counters}):
        check_target(store, submission.kind, submission.target, list(asked))
    bundle = freeze(job, submission.profile)
    conn = connect(app)
    try:
        store.jobs.put_bundle(bundle.sha256, job=job.name, spec=bundle.spec, archive=bundle.archive)
        queued = []
        for cell, one, needed in zip(cells, each, counters, strict=True):
            options = {
                "env": submission.env,
                "baseline": submission.baseline,
                "timeout": one.job_timeout,
                "counters": needed,
                **({"matrix": cell} if cell else {}),
            }
            job_id = enqueue(
                store,
                app,
                conn,
                name=job.name,
                bundle=bundle.sha256,
                kind=submission.kind,
                target=submission.target,
                options=options,
                deadline_s=submission.deadline_s,
                priority=submission.priority,
                retries=submission.retries,
            )
            queued.append(Queued(job_id, cell))
        return queued
    finally:
        conn.release()


def submit(store: Store, app: Celery, submission: Submission) -> str:
    """Store the frozen job (queued) and send its message; the job's id. A job matrix is
    several jobs: :func:`submit_all` queues them."""
    if submission.job.raw.get("matrix"):
        raise InputError(
            "a job matrix is several jobs, one per combination: queue it with submit_all",
            location=submission.job.location("matrix"),
            field="matrix",
        )
    [queued] = submit_all(store, app, submission)
    return queued.job_id
