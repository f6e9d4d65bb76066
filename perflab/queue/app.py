"""The Celery application: one task, messages that only point at a job.

A message carries a job id and nothing else; the database decides whether
work starts (the job's state and its runner's lease), so a message delivered
twice, or again after Redis's visibility timeout, never starts a second
execution. Settings (why each):

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged
  when its task ends, so a worker that dies mid-job gives it back to the broker;
- ``worker_prefetch_multiplier = 1``: a worker process holds one message at a
  time, so jobs wait in the broker, where another worker can take them;
- ``visibility_timeout``: how long Redis waits for an acknowledgement before it
  delivers a message again (benchmark jobs easily take longer: harmless, see above);
- no result backend: a job's outcome is in the database.

Queues are named after what a job may run on: ``perflab.runner.<name>``,
``perflab.group.<name>``, ``perflab.platform.<name>``; a worker consumes those of
the runners it serves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from perflab import config

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("perflab")
TASK = "perflab.run_job"
PREFIX = "perflab"


def queue_name(kind: str, name: str) -> str:
    """The queue of a target: ``perflab.runner.epyc-01``, ``perflab.group.arm`` ..."""
    return f"{PREFIX}.{kind}.{name}"


#: after an attempt's own limit, Celery kills the worker process running it (a last resort:
#: the worker's watchdog stops the job on the runner first)
HARD_LIMIT_MARGIN_S = 300.0


def time_limit(options: dict[str, Any]) -> float:
    """How long an attempt may take: the job's timeout (the harness enforces it on the
    runner) and a margin for preparing the host and collecting what was measured
    (``PERFLAB_ATTEMPT_MARGIN_S``, default 10% of the timeout and at least 300 s)."""
    from perflab.spec.job import DEFAULT_JOB_TIMEOUT

    timeout = float(options.get("timeout") or DEFAULT_JOB_TIMEOUT)
    try:
        margin = float(os.environ.get("PERFLAB_ATTEMPT_MARGIN_S") or max(300.0, 0.1 * timeout))
    except ValueError:
        margin = max(300.0, 0.1 * timeout)
    return timeout + margin


def send(app: Celery, job: dict[str, Any], **kwargs: Any) -> None:
    """Point a message at ``job`` (a job's dict from the store), on its target's queue,
    with Celery's hard time limit past the attempt's own."""
    target = job["target"]
    app.send_task(
        TASK,
        args=[job["job_id"]],
        queue=queue_name(target["kind"], target["name"]),
        time_limit=time_limit(job.get("options") or {}) + HARD_LIMIT_MARGIN_S,
        **kwargs,
    )


def queue_depth(app: Celery) -> Callable[[str], int | None]:
    """A function that counts the messages waiting in a queue of the broker (None when the
    broker cannot say). A queue the broker does not know holds none: Redis keeps no empty
    list, and a lost queue is a lost message."""

    def depth(queue: str) -> int | None:
        try:
            with app.connection_for_read() as conn:
                try:
                    return int(
                        conn.default_channel.queue_declare(queue=queue, passive=True).message_count
                    )
                except conn.channel_errors:
                    return 0
        except Exception as exc:  # the broker away for a moment: the next round asks again
            log.info("cannot count the messages in %s: %s", queue, exc)
            return None

    return depth


def visibility_timeout() -> float:
    """The ``visibility_timeout`` setting (``PERFLAB_VISIBILITY_TIMEOUT``, default 3600 s)."""
    return float(config.settings().visibility_timeout.value)


def _transport_options(timeout: float) -> dict[str, Any]:
    """Redis's: redeliver after ``timeout``; look for such messages about every quarter of
    it (kombu sweeps every 100 s by default, far longer than a short timeout); sockets
    that cannot hang on a broker that accepts and never answers."""
    short = timeout < 600
    return {
        "visibility_timeout": timeout,
        "unacked_restore_interval": min(max(timeout / 4, 1.0), 10.0),
        "unacked_restore_throttle": 1 if short else 10,
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
    }


def make_app(broker_url: str | None = None) -> Celery:
    from celery import Celery

    app = Celery("perflab", broker=broker_url or config.broker_url(), set_as_current=False)
    settings: dict[str, Any] = {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_transport_options": _transport_options(visibility_timeout()),
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 5,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_default_queue": queue_name("runner", "local"),
    }
    app.conf.update(settings)
    return app
