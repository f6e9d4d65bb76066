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

from typing import TYPE_CHECKING, Any

from perflab import config

if TYPE_CHECKING:
    from celery import Celery

TASK = "perflab.run_job"
PREFIX = "perflab"


def queue_name(kind: str, name: str) -> str:
    """The queue of a target: ``perflab.runner.epyc-01``, ``perflab.group.arm`` ..."""
    return f"{PREFIX}.{kind}.{name}"


def visibility_timeout() -> float:
    """The ``visibility_timeout`` setting (``PERFLAB_VISIBILITY_TIMEOUT``, default 3600 s)."""
    return float(config.settings().visibility_timeout.value)


def _transport_options(timeout: float) -> dict[str, Any]:
    """Redis's: redeliver after ``timeout``; look for such messages about every quarter of
    it (kombu sweeps every 100 s by default, far longer than a short timeout); sockets
    that cannot hang on a broker that accepts and never answers."""
    short = timeout < 600
    return {"visibility_timeout": timeout,
            "unacked_restore_interval": min(max(timeout / 4, 1.0), 10.0),
            "unacked_restore_throttle": 1 if short else 10,
            "socket_connect_timeout": 5, "socket_timeout": 30}


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
