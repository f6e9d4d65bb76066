"""The one interface through which perflab touches a host.

Everything above this package (facts, knobs, execution) talks to a runner only
through a :class:`Transport`: run a command, start a streaming process, put
and get files. ``local`` and ``ssh`` implement it; nothing above may assume
the host is the local machine.

Commands are either an argument list (run without a shell; quoted for the
remote shell by the SSH transport) or a string (run by ``/bin/sh -c``).
A timeout kills the command's whole process group, on the host where it runs.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab.errors import HostError

Command = str | Sequence[str]


@dataclass
class CommandResult:
    command: Command
    exit_status: int  # negative: killed by that signal
    stdout: bytes = b""
    stderr: bytes = b""
    duration_s: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and not self.timed_out

    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(self.stderr.decode("utf-8", "replace").splitlines()[-lines:])


@dataclass
class FileInfo:
    """A file copied by put/get: where it landed, its size and sha256 (verified)."""

    path: str
    size: int
    sha256: str


@dataclass
class TransportOptions:
    connect_timeout: float = 10.0
    keepalive: int = 15
    extra: dict[str, Any] = field(default_factory=dict)


class Process(abc.ABC):
    """A command started with :meth:`Transport.start`, its stdout read line by line."""

    @abc.abstractmethod
    def lines(self) -> Iterator[str]:
        """Lines of standard output (without newline) until the process closes it."""

    @abc.abstractmethod
    def interrupt(self) -> None:
        """Ask the process to stop (SIGINT to its process group)."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Kill the whole process group (SIGKILL)."""

    @abc.abstractmethod
    def wait(self, timeout: float | None = None) -> CommandResult:
        """Wait for the exit; stdout in the result holds what ``lines`` did not consume.
        Waiting again returns the same result."""

    def close_stdin(self) -> None:  # noqa: B027 - only processes started with hold_stdin
        """End the standard input of a process started with ``hold_stdin`` (it sees EOF)."""


class Transport(abc.ABC):
    """A way to run commands on, and copy files to and from, one host."""

    #: the runner name used in messages
    name: str = "host"
    #: the Python 3 interpreter on the host (host-side helpers run with it)
    python: str = "python3"
    #: True when paths on the host are paths on the controller (the local runner):
    #: raw outputs need no copying
    shares_files: bool = False

    @abc.abstractmethod
    def run(
        self,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float | None = None,
        stdin: bytes | None = None,
        sudo: bool = False,
    ) -> CommandResult:
        """Run to completion. A timeout kills the process group and sets ``timed_out``."""

    @abc.abstractmethod
    def start(
        self,
        command: Command,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stdin: bytes | None = None,
        sudo: bool = False,
        hold_stdin: bool = False,
    ) -> Process:
        """Start a command whose output is streamed (the benchmark harness).

        ``hold_stdin``: after ``stdin`` the command's standard input stays open until
        :meth:`Process.close_stdin`, or until this controller dies or loses the
        connection: the command sees EOF then, so it can tell that nobody is
        listening any more (the harness stops the benchmark, a host lock is let go).
        """

    @abc.abstractmethod
    def put(self, local: Path, remote: str, *, mode: int | None = None) -> FileInfo:
        """Copy a local file to the host (parent directories are created)."""

    @abc.abstractmethod
    def get(self, remote: str, local: Path, *, max_bytes: int | None = None) -> FileInfo:
        """Copy one file from the host, verifying its sha256; refuse files over max_bytes."""

    @abc.abstractmethod
    def get_tree(
        self,
        root: str,
        patterns: Sequence[str],
        local_dir: Path,
        *,
        max_bytes: int | None = None,
        max_files: int | None = None,
    ) -> list[FileInfo]:
        """Copy the files matching ``patterns`` under ``root`` into ``local_dir`` (artifacts).

        Patterns are globs relative to ``root``; anything that would escape it (``..``,
        absolute paths, symlinks pointing out) is refused. Each file's sha256 is verified;
        ``max_bytes`` bounds the total, ``max_files`` the count.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (a no-op for local)."""

    def keep_controller_off(self, cpus: Sequence[int]) -> Callable[[], None]:
        """Keep the controller's own process off ``cpus`` while a benchmark runs there.

        Only matters when the controller runs on the same host (local); returns
        a function that undoes it.
        """
        return lambda: None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conveniences built on the primitives ------------------------------------------

    def check(self, command: Command, **kwargs: Any) -> CommandResult:
        """Run and raise :class:`HostError` with the stderr tail when it fails."""
        result = self.run(command, **kwargs)
        if not result.ok:
            what = "timed out" if result.timed_out else f"exit status {result.exit_status}"
            shown = command if isinstance(command, str) else " ".join(command)
            raise HostError(
                self.name, f"`{shown[:120]}` failed ({what}): {result.stderr_tail(5).strip()}"
            )
        return result

    def helper_argv(self, code: str) -> list[str]:
        """The command that runs the stdlib-only helper ``code`` with the host's Python:
        ``python3 -I -S -c CODE``. ``-I``: the runner's PYTHON* variables and a ``json.py``
        in the login directory cannot change what the helper imports; ``-S``: no
        site-packages (helpers use the standard library only), a few ms less per call."""
        return [self.python, "-I", "-S", "-c", code]

    def call_hostside(
        self,
        module: str,
        request: Mapping[str, Any],
        *,
        timeout: float | None = 120.0,
        sudo: bool = False,
    ) -> Any:
        """Run a stdlib-only helper from :mod:`perflab.hostside` on the host.

        The helper's source is sent with :meth:`helper_argv`, the request as JSON
        on stdin; it answers one JSON document on stdout. Nothing stays on the host.
        """
        from perflab.hostside import source

        result = self.run(
            self.helper_argv(source(module)),
            stdin=json.dumps(request).encode(),
            timeout=timeout,
            sudo=sudo,
        )
        if not result.ok:
            raise HostError(
                self.name,
                f"host-side {module} failed (exit {result.exit_status}): {result.stderr_tail(8)}",
            )
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise HostError(self.name, f"host-side {module} answered garbage: {exc}") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
