"""A worker's part of one job: lease a runner, run the job fenced, end it exactly once.

:func:`handle` is what the Celery task calls with a job id. The job starts only
if it is still ``queued`` and one of this worker's runners can be leased for it
(one transaction, see ``perflab.store.jobs``); a repeated or redelivered message
finds it started and does nothing. While it runs, a watchdog thread renews the
lease and watches the job's row: a cancel request, or a lease that moved on,
stops the run the way SIGTERM stops ``perflab run`` (benchmark stopped on the
runner, what was measured kept, host restored). Every write of the run and
every change of the job's state checks the lease's fencing token.
"""

from __future__ import annotations

import logging
import random
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab import controller, signals
from perflab.errors import ExitStatus, HostError, InputError, Unreachable
from perflab.execute.lease import Heartbeat, LeaseBusy, lease_key, lease_ttl
from perflab.execute.runner import Reporter
from perflab.prepare.lock import RunnerBusy
from perflab.queue.app import time_limit
from perflab.store.leases import Fence, LeaseLost

if TYPE_CHECKING:
    from perflab.api import RunResult
    from perflab.store import Store

log = logging.getLogger("perflab")
#: the signal a worker's watchdog stops the job in the main thread with
STOP_SIGNAL = signal.SIGUSR2
#: set while a job runs in this process's main thread and a stop signal may interrupt it:
#: a signal that arrives outside (the job ended meanwhile) is ignored
GUARDED = threading.Event()
#: how long a worker waits for a runner's host lock (a `perflab prepare` of a minute)
HOST_LOCK_WAIT_S = 30.0
OFFLINE_AFTER = 3  # unreachable this many times in a row: the runner goes offline


@dataclass(frozen=True)
class ServedRunner:
    name: str
    groups: tuple[str, ...] = ()
    platform: str | None = None
    counting: dict[str, Any] | None = None  # what it can count (its facts; docs/counters.md)

    @property
    def key(self) -> str:
        return lease_key(self.name)


@dataclass
class Served:
    """The runners a worker serves, and its name (in leases and job events)."""

    worker: str
    runners: list[ServedRunner] = field(default_factory=list)
    publish: Any = None  # callable(job dict): send a message pointing at a queued job
    #: callable(queue name): the messages waiting in a queue of the broker, None if unknown
    depth: Any = None
    #: the reconciler's memory: runners (lease keys) it saw idle, with their lease's token
    idle: dict[str, int] = field(default_factory=dict)


def fits(runner: ServedRunner, job: dict[str, Any]) -> bool:
    from perflab.facts.counting import missing_counter

    kind, target = job["target"]["kind"], job["target"]["name"]
    if runner.key in job["exclude"]:
        return False
    counters = tuple((job.get("options") or {}).get("counters") or ())
    if counters and kind != "runner" and missing_counter(runner.counting, counters):
        return False  # a group's or platform's runner that cannot count what the job asks
    if kind == "runner":
        return bool(runner.name == target)
    if kind == "group":
        return target in runner.groups
    return bool(runner.platform == target)


def usable(store: Store, runner: ServedRunner) -> bool:
    """Not quarantined or offline (a registered runner's state)."""
    if runner.name == "local":
        return True
    try:
        state = store.runners.get(runner.name)["state"]
    except InputError:
        return False
    return state not in ("quarantined", "offline")


def handle(job_id: str, served: Served, store: Store) -> str:
    """Run ``job_id`` on one of ``served``'s runners if it is queued and one is free;
    what happened, in a word (for the worker's log)."""
    try:
        job = store.jobs.get(job_id)
    except InputError:
        return "unknown job"
    if job["state"] != "queued" or job["cancel_requested"]:
        return f"nothing to do: {job['state']}"
    candidates = [r for r in served.runners if fits(r, job) and usable(store, r)]
    random.shuffle(candidates)  # spread a group's jobs over its idle runners
    ttl = lease_ttl()
    for runner in candidates:
        if _yields(store, served, runner, job):
            continue
        fence = store.jobs.lease(
            job_id, runner.key, served.worker, ttl, controller=controller.identity()
        )
        if fence is not None:
            return _execute(fence, runner, job, served, store, ttl)
    # this message is used up: the job waits without one until a runner is let go (_next)
    store.jobs.mark_consumed(job_id)
    return "waiting for a runner" if candidates else "no runner of this worker fits"


def _yields(store: Store, served: Served, runner: ServedRunner, job: dict[str, Any]) -> bool:
    """A queued job of higher priority waits for this runner: it goes first (its message
    is sent now unless one points at it already)."""
    best = store.jobs.queued_for(runner.name, runner.groups, runner.platform, limit=1)
    if (
        best
        and best[0]["job_id"] != job["job_id"]
        and best[0]["priority"] > job["priority"]
        and fits(runner, best[0])
    ):
        if served.publish is not None and best[0]["enqueued_at"] is None:
            served.publish(best[0])
        return True
    return False


class _JobReporter(Reporter):
    """Turns a run's progress into the job's states (fenced)."""

    def __init__(self, store: Store, fence: Fence) -> None:
        self.store, self.fence = store, fence

    def started(self, run_id: str, total_steps: int) -> None:
        self.store.jobs.transition(self.fence, "running", message=f"{total_steps} steps")
        if not run_id.startswith("exp-"):
            self.store.jobs.add_run(self.fence, run_id)

    def collecting(self, run_id: str) -> None:
        self.store.jobs.transition(self.fence, "collecting", message=f"run {run_id}")


@dataclass
class _Watch:
    """What the watchdog saw: a cancel request, the lease gone, the time up."""

    deadline: float  # time.monotonic() past which the job is stopped
    cancel: bool = False
    lost: bool = False
    timed_out: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)


def _watchdog(store: Store, fence: Fence, ttl: float, watch: _Watch) -> Heartbeat:
    def stop() -> None:
        if not watch.stopping.is_set() and GUARDED.is_set():
            watch.stopping.set()
            signals.stop_main_thread(STOP_SIGNAL)

    def beat() -> bool:
        if time.monotonic() > watch.deadline and not watch.stopping.is_set():
            watch.timed_out = True
            stop()
        ours = store.leases.heartbeat(fence.runner, fence.token, ttl)
        seen = store.jobs.watch(fence)
        if seen["cancel"] and not watch.stopping.is_set():
            watch.cancel = True
            stop()
        return ours and bool(seen["ours"])

    def lost() -> None:
        watch.lost = True
        stop()

    return Heartbeat(beat, min(ttl / 4, 5.0), on_lost=lost)


def _execute(
    fence: Fence,
    runner: ServedRunner,
    job: dict[str, Any],
    served: Served,
    store: Store,
    ttl: float,
) -> str:
    signals.reset()
    watch = _Watch(time.monotonic() + time_limit(job["options"]))
    dog = _watchdog(store, fence, ttl, watch)
    dog.start()
    folder = Path(tempfile.mkdtemp(prefix=f"perflab-job-{fence.job_id}-"))
    try:
        try:
            GUARDED.set()
            store.jobs.transition(fence, "preparing", message=f"runner {runner.name}")
            result = _run(fence, runner, job, store, folder)
        except (LeaseLost, KeyboardInterrupt, RunnerBusy, LeaseBusy, InputError, HostError) as exc:
            GUARDED.clear()
            return _on_error(exc, fence, runner, store, watch)
        finally:
            GUARDED.clear()
        return _finish(fence, runner, result, store, watch)
    finally:
        dog.stop()
        shutil.rmtree(folder, ignore_errors=True)
        _next(store, served, runner)


def _on_error(
    exc: BaseException, fence: Fence, runner: ServedRunner, store: Store, watch: _Watch
) -> str:
    """How an attempt that stopped on an error ends (the job, the runner's lease)."""
    if isinstance(exc, LeaseLost):
        return "lease lost: another worker owns the job now"
    if isinstance(exc, KeyboardInterrupt):
        return _interrupted(fence, store, watch)
    if isinstance(exc, RunnerBusy | LeaseBusy):
        return _back_to_queue(fence, store, f"the runner's host lock is held: {exc}")
    if isinstance(exc, InputError):
        return _end(store, fence, "failed", ExitStatus.INVALID_INPUT, "invalid_job", str(exc))
    if isinstance(exc, Unreachable):
        return _lost_runner(fence, runner, store, str(exc))
    # reached, but it refused (a CPU not available, sudo ...)
    return _end(store, fence, "failed", ExitStatus.ERROR, "runner_error", str(exc))


def _run(
    fence: Fence, runner: ServedRunner, job: dict[str, Any], store: Store, folder: Path
) -> RunResult:
    from perflab import api
    from perflab.queue.bundle import thaw

    frozen, profile = thaw(store.jobs.bundle(job["bundle"]), folder)
    options = job["options"]
    if frozen.raw.get("matrix"):  # a sweep's part: one combination of the job's matrix
        from perflab.spec.matrix import cell_of

        frozen = cell_of(frozen, dict(options.get("matrix") or {}))
    request = api.RunRequest(
        frozen,
        runner=runner.name,
        profile=profile,
        env=options.get("env") or {},
        baseline=options.get("baseline"),
        lock_wait=HOST_LOCK_WAIT_S,
        job_id=fence.job_id,
        sweep_run_id=options.get("sweep_run"),
    )
    result = api.run(request, store.fenced(fence), reporter=_JobReporter(store, fence))
    done = set(store.jobs.get(fence.job_id)["run_ids"])
    for run in result.runs:
        if run["run_id"] not in done:
            store.jobs.add_run(fence, run["run_id"])
    return result


def _end(
    store: Store, fence: Fence, state: str, status: int, reason: str | None, message: str | None
) -> str:
    store.jobs.finish(fence, state, exit_status=int(status), reason=reason, message=message)
    return state


def _finish(
    fence: Fence, runner: ServedRunner, result: RunResult, store: Store, watch: _Watch
) -> str:
    status = result.exit_status
    if status == ExitStatus.INTERRUPTED:
        return _interrupted(fence, store, watch)
    if status in (ExitStatus.OK, ExitStatus.REGRESSION, ExitStatus.UNMEASURED):
        note = {
            ExitStatus.REGRESSION: "a regression was found",
            ExitStatus.UNMEASURED: "the comparison could not measure (a contaminated run, "
            "a failed noise probe, modes that mix differently)",
        }
        return _end(store, fence, "done", status, None, note.get(status))
    if status == ExitStatus.INVALID_INPUT:
        return _end(store, fence, "failed", status, "invalid_job", str(result.input_error))
    lost = [o.lost for o in result.outcomes if o.lost]
    if lost:  # the runner went away mid-run: another runner may take the job
        return _lost_runner(fence, runner, store, lost[0])
    message = "; ".join(o.message or "" for o in result.outcomes if o.status != "completed")
    return _end(store, fence, "failed", status, _reason(message), message)


def _reason(message: str) -> str:
    text = message.lower()
    if "timed out" in text:
        return "timed_out"
    if "harness" in text:
        return "harness_failed"
    return "benchmark_failed"


def _interrupted(fence: Fence, store: Store, watch: _Watch) -> str:
    if watch.lost:
        return "lease lost: stopped"
    if watch.cancel:
        return _end(
            store,
            fence,
            "cancelled",
            ExitStatus.INTERRUPTED,
            "cancelled",
            "cancelled; what was measured is kept and the host restored",
        )
    if watch.timed_out:
        return _end(
            store,
            fence,
            "failed",
            ExitStatus.ERROR,
            "timed_out",
            f"stopped after {time_limit(store.jobs.get(fence.job_id)['options']):g} s "
            "(the job's timeout and time to prepare and collect); what was measured "
            "is kept and the host restored",
        )
    after = store.jobs.requeue_or_fail(
        fence.runner,
        fence.token,
        reason="interrupted",
        message="the worker was stopped during the job",
    )
    return f"interrupted: {after['state'] if after else 'moved on'}"


def _back_to_queue(fence: Fence, store: Store, message: str) -> str:
    after = store.jobs.requeue_or_fail(
        fence.runner, fence.token, reason="runner_busy", message=message, free=True
    )
    return f"busy: {after['state'] if after else 'moved on'}"


def _lost_runner(fence: Fence, runner: ServedRunner, store: Store, message: str) -> str:
    failures = store.leases.note_reachable(fence.runner, False)
    if failures >= OFFLINE_AFTER and runner.name != "local":
        store.runners.set_state(
            runner.name, "offline", f"unreachable {failures} times in a row: {message}"
        )
    after = store.jobs.requeue_or_fail(
        fence.runner, fence.token, reason="runner_unreachable", message=message, exclude_runner=True
    )
    return f"runner lost: {after['state'] if after else 'moved on'}"


def _next(store: Store, served: Served, runner: ServedRunner) -> None:
    """The runner is free: point a message at the best jobs waiting for it that have none
    (their message was taken while every runner was busy). A job whose message is still
    in the broker gets no second one: it would only be taken to find the job started."""
    if served.publish is None:
        return
    try:
        for job in store.jobs.queued_for(runner.name, runner.groups, runner.platform, limit=3):
            if job["enqueued_at"] is None:
                served.publish(job)
    except Exception as exc:  # the reconciler sends them later
        log.warning("could not point messages at the next jobs: %s", exc)
