"""Holding a runner's lease in the store while a run goes on (``perflab run``, a worker).

The lease (``perflab.store.leases``) is what the queue sees: a runner with a
held lease is not offered to another job, and a direct ``perflab run`` takes
the same lease, so the two never share a runner. A holder renews it with a
:class:`Heartbeat` thread; if the store cannot be reached for a moment the
heartbeat tries again at the next beat, and the lease lasts ``ttl`` seconds
after the last renewal that got through.

The local runner's lease is named ``local@<host name>``: every machine has a
``local`` of its own, and two controllers sharing a database must not block
each other's.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from perflab import controller
from perflab.errors import PerflabError

if TYPE_CHECKING:
    from perflab.store import Store

log = logging.getLogger("perflab")


def lease_ttl() -> float:
    """Seconds a lease lasts after its last renewal (the ``lease_ttl`` setting,
    ``PERFLAB_LEASE_TTL``, default 60)."""
    from perflab import config

    return float(config.settings().lease_ttl.value)


def lease_key(runner: str) -> str:
    """The name of a runner's lease (``local@<host>`` for the local runner)."""
    return f"local@{socket.gethostname()}" if runner == "local" else runner


def _since(iso: str | None) -> str:
    if not iso:
        return ""
    when = datetime.fromisoformat(iso).astimezone()
    today = when.date() == datetime.now().astimezone().date()
    return f" since {when:%H:%M}" if today else f" since {when:%Y-%m-%d %H:%M}"


class LeaseBusy(PerflabError):
    """Another run or job holds the runner's lease (exit status 1)."""

    def __init__(self, runner: str, holder: str | None, waited: float) -> None:
        super().__init__(
            f"runner {runner} is busy: {holder or 'another run'}",
            hint=f"waited {waited:g} s; wait longer with --lock-wait SECONDS "
            "(or PERFLAB_LOCK_WAIT), or see `perflab status`",
        )


class Heartbeat(threading.Thread):
    """Calls ``beat`` every ``interval`` seconds until stopped; ``beat`` returns False when
    the lease is no longer ours, and ``on_lost`` is called once then."""

    def __init__(
        self, beat: Callable[[], bool], interval: float, on_lost: Callable[[], None] | None = None
    ) -> None:
        super().__init__(name="perflab-heartbeat", daemon=True)
        self._beat, self._interval, self._on_lost = beat, interval, on_lost
        self._stop_event = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                ours = self._beat()
            except Exception as exc:  # the store is away for a moment: next beat
                log.debug("lease heartbeat failed, trying again: %s", exc)
                continue
            if not ours:
                self.lost = True
                if self._on_lost is not None:
                    self._on_lost()
                return

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=10)


@contextmanager
def runner_lease(
    store: Store, runner: str, holder: str, *, wait: float = 0.0, ttl: float | None = None
) -> Iterator[int]:
    """Hold ``runner``'s lease for a run that is not a queued job; renewed until the block
    ends, then let go. Waits up to ``wait`` seconds for a busy runner, then
    :class:`LeaseBusy` naming its holder."""
    ttl = ttl or lease_ttl()
    key = lease_key(runner)
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    me = controller.identity()
    while (token := store.leases.acquire(key, holder, ttl, controller=me)) is None:
        dead = store.leases.release_dead(key, controller.is_gone)
        if dead is not None:
            log.warning(
                "runner %s: took over the lease of %s, whose process is gone",
                runner,
                dead["holder"],
            )
            continue
        current = store.leases.get(key) or {}
        who = f"{current.get('holder')}{_since(current.get('acquired_at'))}"
        if current.get("job_id"):
            who = f"job {current['job_id']} ({who})"
        if time.monotonic() >= deadline:
            raise LeaseBusy(runner, who, wait)
        if not told:
            log.warning("runner %s is busy: %s; waiting up to %g s", runner, who, wait)
            told = True
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.01)))
    beat = Heartbeat(lambda: store.leases.heartbeat(key, token, ttl), ttl / 4)
    beat.start()
    try:
        yield token
    finally:
        beat.stop()
        try:
            store.leases.release(key, token)
        except Exception as exc:  # the store is away: the lease expires by itself
            log.warning(
                "could not release the lease on runner %s (it expires in %g s): %s",
                runner,
                ttl,
                exc,
            )
