"""SIGINT, SIGTERM and SIGHUP end a command the same way: stop, keep, restore, report.

A cancelled CI job, ``timeout``, ``docker stop`` and a closed terminal send
SIGTERM or SIGHUP, not Ctrl-C. :func:`install` makes all three raise
:class:`Terminated` (a ``KeyboardInterrupt``), so every path that already
handles Ctrl-C (stop the benchmark's process group on the host, keep what was
measured, restore the host, mark the run interrupted) handles them too, and
the command exits with 128 + the signal's number (130, 143, 129).

Putting a host back must not itself be interrupted: inside :func:`deferred`
a signal is remembered, not raised, and raised when the block ends (unless
the block is already ending with an exception, as after the first signal).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    def __reduce__(self) -> tuple[type[Terminated], tuple[int]]:
        return Terminated, (self.signum,)  # pickled across processes by its number


class _State:
    received: int | None = None  # the first stop signal of this process
    depth = 0  # inside deferred() blocks
    pending: int | None = None  # arrived while deferred


_state = _State()


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state.received is None:
        _state.received = signum
    if _state.depth:
        _state.pending = _state.pending or signum
        return
    raise Terminated(signum)


def install(signums: tuple[int, ...] = HANDLED) -> None:
    """Handle ``signums`` (SIGINT, SIGTERM and SIGHUP) in this (main) thread as described
    above. A queue worker's process handles the signal it stops a job with instead."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in signums:
        signal.signal(signum, _handler)


def stop_main_thread(signum: int = signal.SIGTERM) -> None:
    """From another thread: stop what the main thread runs as if ``signum`` had come (a
    queue worker's watchdog: the job was cancelled, its lease lost, its time up)."""
    signal.pthread_kill(threading.main_thread().ident or 0, signum)


def received() -> int | None:
    """The first stop signal this process received, if any."""
    return _state.received


def by() -> str:
    """ " by SIGTERM" (for a message), or "" when no stop signal came (Ctrl-C in a test)."""
    signum = _state.received
    return "" if signum is None else f" by {signal.Signals(signum).name}"


def exit_status(signum: int) -> int:
    return 128 + signum


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Run a block that must not be cut short (restoring a host, releasing its lock)."""
    _state.depth += 1
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        _state.depth -= 1
        if not _state.depth and _state.pending is not None:
            signum, _state.pending = _state.pending, None
            if not failed:
                raise Terminated(signum)


def reset() -> None:
    """Forget received signals (tests that call the CLI in-process)."""
    _state.received = _state.pending = None
    _state.depth = 0
