"""The reconciler: what a worker does besides running jobs, at start and every interval.

- A lease nobody renews any more (its worker died, was paused, lost its link):
  the job is queued again when it has retries left, else failed (``worker_lost``),
  the runner's lease is let go, and the host is restored (a worker that died
  mid-job left it prepared). A runner that cannot be reached for that counts an
  unreachable attempt; after three in a row it is marked offline. Just after the
  database was away (this process saw it come back), expired leases are left for one
  lease time: nobody could renew them meanwhile (perflab.store.retry.back_since).
- A queued job whose message may be lost (Redis restarted without persistence,
  publishing failed) and that a runner of this worker could take: its message is
  sent again when the broker's queue holds no message for it, or when one of those
  runners is idle (the best such job for each). Duplicates are harmless, and few.
- A queued job past its deadline: failed (``runner_busy``).
- A sweep run whose parts' jobs have all ended: finished (``perflab.store.sweeps``).

Several workers may reconcile at once: every step is a conditional update
(the lease's token, the job's state) or a host-locked restore.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from perflab.errors import HostError, InputError, PerflabError
from perflab.execute.lease import lease_key, lease_ttl
from perflab.store.retry import back_since
from perflab.store.runs import utcnow

if TYPE_CHECKING:
    from perflab.queue.work import Served, ServedRunner
    from perflab.store import Store

log = logging.getLogger("perflab")
REPUBLISH_AFTER_S = 60.0
OFFLINE_AFTER = 3


@dataclass
class Summary:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)
    republished: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)  # queued jobs past their deadline
    sweeps_ended: list[str] = field(default_factory=list)  # sweep runs whose parts all ended


def _runner_name(key: str) -> str | None:
    """The runner a lease names, if this machine can reach it (``local@<other host>`` is
    another machine's local runner)."""
    if key.startswith("local@"):
        return "local" if key == lease_key("local") else None
    return key


def _restore(store: Store, key: str, summary: Summary) -> None:
    from perflab.prepare.locked import restore_runner
    from perflab.runners import open_runner

    name = _runner_name(key)
    if name is None:
        return
    try:
        host = open_runner(name, store)
        with host.transport:
            report = restore_runner(host, lock_wait=0)
        store.leases.note_reachable(key, True)
        if not report.nothing:
            summary.restored.append(name)
    except HostError as exc:
        _unreachable(store, name, key, exc, summary)
    except (PerflabError, InputError) as exc:  # busy (someone is on it), unknown runner
        log.info("not restoring %s now: %s", name, exc)


def _expired_leases(store: Store, served: Served, summary: Summary) -> None:
    expired = store.leases.expired()
    since = back_since()
    if expired and since is not None and since < lease_ttl():
        # the database was away and has just come back: its holders could not renew
        # their leases meanwhile; they get one lease time to do it before any is taken
        log.info(
            "the database came back %.1f s ago: %d expired lease(s) left for %.0f s more, "
            "for their holders to renew",
            since,
            len(expired),
            lease_ttl() - since,
        )
        return
    for lease in expired:
        key, token = lease["runner"], lease["token"]
        if lease["job_id"]:
            after = store.jobs.requeue_or_fail(
                key,
                token,
                reason="worker_lost",
                message=f"the lease of {lease['holder']} on runner {key} expired at "
                f"{lease['expires_at']}: its worker stopped renewing it",
            )
            if after is None:
                continue
            (summary.requeued if after["state"] == "queued" else summary.failed).append(
                after["job_id"]
            )
            if after["state"] == "queued" and served.publish is not None:
                served.publish(after)
        elif not store.leases.release(key, token):
            continue
        _restore(store, key, summary)


def _deadline_passed(job: dict[str, Any], now: datetime) -> bool:
    deadline = job.get("deadline")
    return deadline is not None and datetime.fromisoformat(str(deadline)) < now


def _queued(store: Store, served: Served, republish_after: float, summary: Summary) -> None:
    now = utcnow()
    stale = []
    for job in store.jobs.queued_before(now - timedelta(seconds=republish_after)):
        if not _deadline_passed(job, now):
            stale.append(job)
        elif store.jobs.fail_queued(
            job["job_id"],
            reason="runner_busy",
            message=f"no runner of {job['target']['kind']} "
            f"{job['target']['name']} became free before "
            f"its deadline {job['deadline']}",
        ):
            summary.expired.append(job["job_id"])
    if served.publish is None:
        return
    for job in _to_republish(store, served, stale):
        served.publish(job)
        summary.republished.append(job["job_id"])


def _to_republish(
    store: Store, served: Served, stale: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Which of the queued jobs that have waited long get a message again, among those a
    runner of this worker can take:

    - those whose message went out but whose queue in the broker holds none (lost:
      Redis restarted without its data, or publishing failed): all of them;
    - for each runner of this worker that has stayed idle since the last round (no
      lease taken on it meanwhile), the best one it can take: its message is lost, or
      was taken while every runner was busy.

    A job that only busy runners can take is left alone: its message waits in the
    broker, or the runner let go next points one at it. So is a runner idle for a moment
    between two jobs. (Sending every waiting job's message again each round made a
    backlog of a thousand jobs into thousands of messages that each found their job
    started.)"""
    from perflab.queue.app import queue_name
    from perflab.queue.work import fits

    mine = sorted(
        (j for j in stale if any(fits(r, j) for r in served.runners)),
        key=lambda j: (-j["priority"], j["submitted_at"]),
    )
    if not mine:
        return []
    depths: dict[str, int | None] = {}

    def lost(job: dict[str, Any]) -> bool:
        queue = queue_name(job["target"]["kind"], job["target"]["name"])
        if queue not in depths:
            depths[queue] = served.depth(queue) if served.depth is not None else None
        return job["enqueued_at"] is not None and depths[queue] == 0

    chosen = {j["job_id"]: j for j in mine if lost(j)}
    for runner in served.runners:
        if not _stayed_idle(store, served, runner):
            continue
        best = next((j for j in mine if fits(runner, j) and j["job_id"] not in chosen), None)
        if best is not None:
            chosen[best["job_id"]] = best
    return list(chosen.values())


def _stayed_idle(store: Store, served: Served, runner: ServedRunner) -> bool:
    """Nobody holds the runner's lease, it may take jobs (not quarantined, offline), and
    so it was when a round last looked, with no lease taken since (the same token)."""
    from perflab.queue.work import usable

    lease = store.leases.get(runner.key)
    if (lease and lease["held"]) or not usable(store, runner):
        served.idle.pop(runner.key, None)
        return False
    token = lease["token"] if lease else 0
    before, served.idle[runner.key] = served.idle.get(runner.key), token
    return before == token


def _unreachable(store: Store, name: str, key: str, exc: BaseException, summary: Summary) -> None:
    failures = store.leases.note_reachable(key, False)
    if failures >= OFFLINE_AFTER and name != "local":
        store.runners.set_state(name, "offline", f"unreachable {failures} times in a row: {exc}")
        summary.offline.append(name)


def _suspects(store: Store, served: Served, summary: Summary) -> None:
    """A served runner that could not be reached lately (and is not in use): try it again;
    after OFFLINE_AFTER failures in a row it is marked offline, until `runner release`."""
    from perflab.runners import open_runner

    for runner in served.runners:
        lease = store.leases.get(runner.key)
        if runner.name == "local" or not lease or not lease["failures"] or lease["held"]:
            continue
        if store.runners.get(runner.name)["state"] == "offline":
            continue
        try:
            host = open_runner(runner.name, store)
            with host.transport:
                host.transport.check(["true"], timeout=10)
        except HostError as exc:
            _unreachable(store, runner.name, runner.key, exc, summary)
        else:
            store.leases.note_reachable(runner.key, True)


def reconcile(
    store: Store, served: Served, *, republish_after: float = REPUBLISH_AFTER_S
) -> Summary:
    summary = Summary()
    _expired_leases(store, served, summary)
    _suspects(store, served, summary)
    _queued(store, served, republish_after, summary)
    summary.sweeps_ended = store.sweeps.refresh_open()
    return summary


def loop(
    store: Store,
    served: Served,
    interval: float,
    stop: threading.Event,
    *,
    republish_after: float = REPUBLISH_AFTER_S,
) -> None:
    """Reconcile now and every ``interval`` seconds until ``stop`` is set; a failing
    round (the database away for a moment) is logged and tried again."""
    while True:
        try:
            summary = reconcile(store, served, republish_after=republish_after)
            if any(vars(summary).values()):
                log.info("reconciled: %s", {k: v for k, v in vars(summary).items() if v})
        except Exception as exc:
            log.warning("reconciling failed, trying again in %g s: %s", interval, exc)
        if stop.wait(interval):
            return
