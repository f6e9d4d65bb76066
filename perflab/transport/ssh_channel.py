"""One command on one SSH session channel: its prologue, its output, its end.

The command's process group id comes first on stderr (see :mod:`ssh_command`);
a timeout, ``interrupt`` or ``kill`` signals that group over a second channel
of the same connection, so grandchildren die with the command.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import paramiko

from perflab.errors import HostError, Unreachable
from perflab.transport.base import Command, CommandResult, Process
from perflab.transport.ssh_command import ERROR_MARK, parse_pgid
from perflab.transport.ssh_connect import ExitAwareTransport

#: after a kill, how long to wait for the channel to close before giving up on it
KILL_GRACE_S = 10.0
CHUNK = 1 << 16

Signaller = Callable[[int, str, bool], None]


def describe(command: Command) -> str:
    text = command if isinstance(command, str) else " ".join(command)
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass
class Started:
    """What the prologue told: the process group, the remote uid, or why it did not start."""

    pgid: int | None = None
    uid: int | None = None
    error: str | None = None


class RemoteCommand:
    """Reads a running channel: stdout and stderr into buffers, the exit status at the end."""

    def __init__(
        self,
        runner: str,
        transport: ExitAwareTransport,
        chan: paramiko.Channel,
        command: Command,
        *,
        signaller: Signaller,
        sudo: bool,
    ) -> None:
        self.runner = runner
        self.transport = transport
        self.chan = chan
        self.command = command
        self.signaller = signaller
        self.sudo = sudo
        self.out = bytearray()
        self.err = bytearray()
        self.started = Started()
        self.t0 = time.monotonic()
        self._stdin_thread: threading.Thread | None = None

    # -- input ------------------------------------------------------------------------

    def send_stdin(self, data: bytes | None, *, hold: bool = False) -> None:
        """Send ``data`` (in a thread: a big input must not block reading the output);
        then end the input, unless ``hold``: :meth:`close_stdin` ends it later."""
        if not data:
            if not hold:
                self.chan.shutdown_write()
            return
        self._stdin_thread = threading.Thread(
            target=self._write,
            args=(data, hold),
            daemon=True,
            name=f"perflab-ssh-stdin-{self.runner}",
        )
        self._stdin_thread.start()

    def _write(self, data: bytes, hold: bool) -> None:
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            self.chan.sendall(data)
            if not hold:
                self.chan.shutdown_write()

    def close_stdin(self) -> None:
        if self._stdin_thread is not None:
            self._stdin_thread.join(KILL_GRACE_S)
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            self.chan.shutdown_write()

    # -- output -----------------------------------------------------------------------

    def pump(self, wait: float) -> None:
        """Move whatever arrived (waiting up to ``wait`` seconds for something) into buffers."""
        chan = self.chan
        if not (chan.recv_ready() or chan.recv_stderr_ready() or chan.closed):
            select.select([chan], [], [], max(wait, 0.0))
        while chan.recv_ready():
            self.out += chan.recv(CHUNK)
        while chan.recv_stderr_ready():
            self.err += chan.recv_stderr(CHUNK)

    @property
    def done(self) -> bool:
        chan = self.chan
        return chan.closed and not chan.recv_ready() and not chan.recv_stderr_ready()

    def read_prologue(self, deadline: float | None) -> Started:
        """Wait for the group id line (or the end, or the deadline); errors stay in stderr."""
        kept = bytearray()
        while self.started.pgid is None:
            newline = self.err.find(b"\n")
            if newline < 0:
                now = time.monotonic()
                if self.done or (deadline is not None and now >= deadline):
                    break
                self.pump(1.0 if deadline is None else min(1.0, deadline - now))
                continue
            line = bytes(self.err[:newline]).decode("utf-8", "replace")
            del self.err[: newline + 1]
            found = parse_pgid(line)
            if found:
                self.started.pgid, self.started.uid = found
            elif line.startswith(ERROR_MARK):
                self.started.error = line[len(ERROR_MARK) :]
                kept += f"perflab: {self.started.error}\n".encode()
            else:
                kept += line.encode() + b"\n"
        self.err[:0] = kept
        return self.started

    # -- ending -----------------------------------------------------------------------

    def signal(self, sig: str) -> None:
        pgid = self.started.pgid
        if pgid is None or self.chan.closed:
            return
        needs_sudo = self.sudo and self.started.uid not in (0, None)
        self.signaller(pgid, sig, needs_sudo)

    def finish(self, timeout: float | None) -> CommandResult:
        """Read to the end; past ``timeout`` kill the group and mark the result timed out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        timed_out, give_up = False, None
        try:
            while not self.done:
                now = time.monotonic()
                if deadline is not None and now >= deadline and not timed_out:
                    timed_out, give_up = True, now + KILL_GRACE_S
                    with contextlib.suppress(HostError):
                        self.signal("KILL")
                if give_up is not None and now >= give_up:
                    break
                limit = (give_up or deadline or now + 1.0) - now
                self.pump(min(max(limit, 0.0), 1.0))
        except BaseException:
            self.abort()
            raise
        return self._result(timed_out)

    def abort(self) -> None:
        """Kill the group if it started (best effort) and drop the channel (on ^C, errors)."""
        with contextlib.suppress(Exception):
            self.signal("KILL")
        self.chan.close()

    def _result(self, timed_out: bool) -> CommandResult:
        status = self.transport.exit_statuses.pop(self.chan.get_id(), None)
        self.chan.close()
        if status is None:
            if not self.transport.is_active():
                cause = self.transport.get_exception()
                raise Unreachable(
                    self.runner,
                    f"connection lost while running "
                    f"`{describe(self.command)}`"
                    f"{f': {cause}' if cause else ''}",
                )
            status = -9 if timed_out else -1
        return CommandResult(
            self.command,
            status,
            bytes(self.out),
            bytes(self.err),
            time.monotonic() - self.t0,
            timed_out,
        )


class SSHProcess(Process):
    """A started remote command; ``lines`` streams its stdout."""

    def __init__(self, remote: RemoteCommand, on_end: Callable[[SSHProcess], None]) -> None:
        self._remote = remote
        self._on_end = on_end
        self._partial = bytearray()
        self._result: CommandResult | None = None

    @property
    def pgid(self) -> int | None:
        return self._remote.started.pgid

    def lines(self) -> Iterator[str]:
        remote = self._remote
        while True:
            newline = remote.out.find(b"\n")
            if newline >= 0:
                line = bytes(remote.out[:newline])
                del remote.out[: newline + 1]
                yield line.decode("utf-8", "replace")
            elif remote.done:
                break
            else:
                remote.pump(1.0)
                if not remote.transport.is_active() and not remote.chan.closed:
                    remote.chan.close()
        if remote.out:
            line = bytes(remote.out)
            remote.out.clear()
            yield line.decode("utf-8", "replace")

    def interrupt(self) -> None:
        self._remote.signal("INT")

    def kill(self) -> None:
        self._remote.signal("KILL")

    def close_stdin(self) -> None:
        self._remote.close_stdin()

    @property
    def running(self) -> bool:
        return not self._remote.chan.closed

    def wait(self, timeout: float | None = None) -> CommandResult:
        if self._result is not None:  # waited for already
            return self._result
        try:
            self._remote.close_stdin()
            self._result = self._remote.finish(timeout)
            return self._result
        finally:
            self._on_end(self)
