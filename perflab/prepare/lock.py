"""One command per runner at a time: the host lock.

Two runs measuring on one reserved CPU are both wrong, a restore under a
running benchmark unshields it, and two preparations racing on the state file
lose the restore record. So every command that prepares, measures on,
restores or probes a runner holds an exclusive lock *on the host* (``flock``
on ``<state dir>/lock``, held by :mod:`perflab.hostside.lock`) from its first
change to its last restore. It is below the queue's lease: it holds for two
controllers with different databases, and for a person at a terminal.

A second command waits up to ``wait`` seconds (``--lock-wait``, else the
``lock_wait`` setting: ``PERFLAB_LOCK_WAIT`` or config.yaml; default 0) and
then fails with who holds the runner:
``runner local is busy: run 0904227a (pid 1234 on ci-7) since 07:12``. The
lock dies with its controller: the helper holding it lets go when the
controller's end of its standard input closes (exit, SIGKILL, lost link).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from perflab import config, signals
from perflab.errors import HostError, PerflabError
from perflab.prepare.host import RunnerHost
from perflab.transport.base import Process

WAIT_ENV = "PERFLAB_LOCK_WAIT"
#: where a login user who cannot write the default state dir keeps the lock (no root:
#: such a user cannot prepare the host either, only run on it)
USER_FALLBACK = "~/.local/state/perflab"
log = logging.getLogger("perflab")


@dataclass(frozen=True)
class Owner:
    """Who holds a runner: what it does, and which process on which controller."""

    what: str  # "run 0904227a", "prepare", "experiment exp-1a2b3c4d" ...
    pid: int
    host: str
    since: float

    @classmethod
    def this_process(cls, what: str) -> Owner:
        return cls(what, os.getpid(), socket.gethostname(), time.time())

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.since)
        today = when.date() == datetime.now().date()
        since = f"{when:%H:%M}" if today else f"{when:%Y-%m-%d %H:%M}"
        return f"{self.what} (pid {self.pid} on {self.host}) since {since}"


def owner_from(data: Any) -> Owner | None:
    if not isinstance(data, dict):
        return None
    try:
        return Owner(str(data["what"]), int(data["pid"]), str(data["host"]), float(data["since"]))
    except (KeyError, TypeError, ValueError):
        return None


class RunnerBusy(PerflabError):
    """Another command holds the runner (exit status 1)."""

    def __init__(self, runner: str, owner: Owner | None, waited: float) -> None:
        who = owner.describe() if owner else "another perflab command"
        super().__init__(
            f"runner {runner} is busy: {who}",
            hint=f"waited {waited:g} s; wait longer with --lock-wait SECONDS "
            f"(or {WAIT_ENV}, or lock_wait in {config.config_file()})",
        )
        self.owner = owner


def default_wait() -> float:
    """The ``lock_wait`` setting (``PERFLAB_LOCK_WAIT``, config.yaml), else 0: a busy
    runner is an error at once. A bad value is an input error naming where it is."""
    return config.settings().lock_wait.value


@dataclass
class Held:
    """A runner held by this command: who we are, and its preparation state as read
    under the lock (the state file; None when not prepared)."""

    owner: Owner
    state: dict[str, Any] | None

    def owner_record(self, kind: str) -> dict[str, Any]:
        """The owner as written to a preparation's state (kind "run" or "prepare")."""
        return {**asdict(self.owner), "kind": kind}


def _request(host: RunnerHost, owner: Owner, wait: float) -> dict[str, Any]:
    return {
        "dir": host.state_dir,
        "fallback": None if host.state_dir_configured else USER_FALLBACK,
        "owner": asdict(owner),
        "wait": wait,
        "state_file": host.state_file,
    }


def _until_locked(host: RunnerHost, process: Process, wait: float) -> dict[str, Any] | None:
    """Read the helper's events until it holds the lock; the state it read then."""
    for line in process.lines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind = event.get("event")
        if kind == "locked":
            state: dict[str, Any] | None = event.get("state")
            return state
        if kind == "busy":
            who = owner_from(event.get("owner"))
            log.warning(
                "runner %s is busy: %s; waiting up to %g s",
                host.name,
                who.describe() if who else "another perflab command",
                wait,
            )
        elif kind == "timeout":
            process.wait(timeout=10)
            raise RunnerBusy(host.name, owner_from(event.get("owner")), wait)
        elif kind == "error":
            process.wait(timeout=10)
            raise HostError(
                host.name,
                f"cannot take the host lock: {event.get('error')}",
                hint="set perflab_state_dir (PERFLAB_STATE_DIR for local) to a "
                "folder this user can write",
            )
    result = process.wait(timeout=10)
    raise HostError(
        host.name,
        f"the host lock helper ended early (exit {result.exit_status}): {result.stderr_tail(5)}",
    )


@contextmanager
def host_lock(host: RunnerHost, what: str, *, wait: float | None = None) -> Iterator[Held]:
    """Hold ``host`` exclusively for the block (see the module's docstring)."""
    from perflab.hostside import source

    wait = default_wait() if wait is None else wait
    owner = Owner.this_process(what)
    transport = host.transport
    process = transport.start(
        transport.helper_argv(source("lock")),
        stdin=(json.dumps(_request(host, owner, wait)) + "\n").encode(),
        hold_stdin=True,
    )
    try:
        state = _until_locked(host, process, wait)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    try:
        yield Held(owner, state)
    finally:
        with signals.deferred():  # let go only once: a second signal waits for it
            try:
                process.close_stdin()
                process.wait(timeout=30)
            except HostError:  # the link is gone: the lock went with the helper's session
                pass
