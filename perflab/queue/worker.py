"""``perflab worker``: a Celery worker that serves some runners, and its reconciler.

The worker consumes the queues of the runners it serves (``perflab.runner.<name>``),
of their groups and of their platforms. Each of its processes takes one message
at a time (prefork, ``--concurrency`` processes, by default one per runner), and
runs the job on one of its runners (``perflab.queue.work``). Its main process
also runs the reconciler (``perflab.queue.reconcile``) at start and every
``interval`` seconds.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError
from perflab.queue.app import TASK, make_app, queue_depth, queue_name, send
from perflab.queue.work import STOP_SIGNAL, Served, ServedRunner

if TYPE_CHECKING:
    from celery import Celery

    from perflab.store import Store

log = logging.getLogger("perflab")
_stores: dict[int, Store] = {}


def process_store() -> Store:
    """This process's store (a worker's processes are forked: each opens its own)."""
    from perflab.store import open_store

    pid = os.getpid()
    if pid not in _stores:
        _stores[pid] = open_store()
    return _stores[pid]


def served_runners(
    store: Store, names: tuple[str, ...], group: str | None, every: bool
) -> list[ServedRunner]:
    """The runners named, those of a group, or every registered one (and ``local`` when
    named); each with its groups and platform, as the queue routes by them."""
    from perflab.facts.platform import platform_name

    chosen = list(names)
    if group:
        members = [r["name"] for r in store.runners.list(group=group)]
        if not members:
            raise InputError(f'no runner in group "{group}"', field="--group")
        chosen += members
    if every:
        chosen += [r["name"] for r in store.runners.list()]
    if not chosen:
        raise InputError(
            "name the runners this worker serves: --runner NAME, --group G or --all",
            field="--runner",
        )
    out = []
    for name in dict.fromkeys(chosen):
        if name == "local":
            facts = _local_facts()
            out.append(ServedRunner("local", (), platform_name(facts), facts.get("counting")))
            continue
        row = store.runners.get(name)
        out.append(
            ServedRunner(
                name,
                tuple(row["groups"]),
                row["platform"],
                (row.get("facts") or {}).get("counting"),
            )
        )
    return out


def _local_facts() -> dict[str, Any]:
    return {"system": os.uname().sysname.lower(), "arch": os.uname().machine}


def queues(runners: list[ServedRunner]) -> list[str]:
    names = [queue_name("runner", r.name) for r in runners]
    names += [queue_name("group", g) for r in runners for g in r.groups]
    names += [queue_name("platform", r.platform) for r in runners if r.platform]
    return list(dict.fromkeys(names))


def publisher(app: Celery, store_of: Any) -> Any:
    """A function that points a message at a queued job (and notes when)."""

    def publish(job: dict[str, Any]) -> None:
        send(app, job)
        store_of().jobs.mark_enqueued(job["job_id"])

    return publish


def _stop_handler(signum: int, frame: Any) -> None:
    """In a worker process: a job runs in this thread; stop it like Ctrl-C stops a run.
    Outside a job (idle, shutting down), SIGTERM ends the process as it would have."""
    from perflab import signals
    from perflab.queue.work import GUARDED

    if GUARDED.is_set():
        signals._handler(signum, frame)
    elif signum == signal.SIGTERM and not _running.is_set():
        raise SystemExit(0)


_running = threading.Event()  # a task runs in this process's main thread


def bind(app: Celery, runners: list[ServedRunner]) -> None:
    """Register the task and the worker's process hooks on ``app``."""
    from celery.signals import worker_process_init

    app.conf.perflab_served = [asdict(r) for r in runners]

    def run_job(self: Any, job_id: str) -> str:
        from perflab.queue.work import handle

        served = Served(str(self.request.hostname), runners, publisher(app, process_store))
        _running.set()
        try:
            outcome = handle(job_id, served, process_store())
        finally:
            _running.clear()
        log.info("job %s: %s", job_id, outcome)
        return outcome

    def child(**_: Any) -> None:
        for signum in (STOP_SIGNAL, signal.SIGTERM):
            signal.signal(signum, _stop_handler)

    app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)(run_job)
    worker_process_init.connect(child, weak=False)


def start(
    names: tuple[str, ...] = (),
    *,
    group: str | None = None,
    every: bool = False,
    concurrency: int | None = None,
    interval: float = 15.0,
    republish_after: float = 60.0,
    loglevel: str = "INFO",
    broker_url: str | None = None,
    extra_queues: tuple[str, ...] = (),
    plugins: tuple[Any, ...] = (),
) -> None:
    """Serve the runners until stopped (SIGTERM or Ctrl-C: the running jobs finish).
    ``extra_queues`` are consumed too, and each of ``plugins`` is called with the app
    before the worker starts (to register more tasks: the sweeps' scheduler ticks)."""
    from celery.signals import worker_ready, worker_shutdown

    from perflab.queue import reconcile
    from perflab.queue.submit import connect

    store = process_store()
    runners = served_runners(store, names, group, every)
    app = make_app(broker_url)
    connect(app).release()  # a broker that cannot be reached: one line, exit 1
    bind(app, runners)
    for plugin in plugins:
        plugin(app)
    node = f"perflab-{os.getpid()}@{socket.gethostname()}"
    stop = threading.Event()

    def reconciler(**_: Any) -> None:
        from perflab.store import open_store

        own = open_store()
        served = Served(node, runners, publisher(app, lambda: own), depth=queue_depth(app))
        threading.Thread(
            target=reconcile.loop,
            args=(own, served, interval, stop),
            kwargs={"republish_after": republish_after},
            name="perflab-reconciler",
            daemon=True,
        ).start()

    worker_ready.connect(reconciler, weak=False)
    worker_shutdown.connect(lambda **_: stop.set(), weak=False)
    consumed = ",".join([*queues(runners), *extra_queues])
    argv = [
        "worker",
        "-Q",
        consumed,
        "-c",
        str(concurrency or len(runners)),
        "-n",
        node,
        "-l",
        loglevel,
        "-P",
        "prefork",
        "--without-gossip",
        "--without-mingle",
    ]
    log.warning("worker %s serves %s", node, ", ".join(r.name for r in runners))
    app.worker_main(argv)
