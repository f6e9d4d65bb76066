"""The local transport: this machine, no SSH. Backs the always-present ``local`` runner."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from perflab.errors import HostError
from perflab.transport.base import Command, CommandResult, FileInfo, Process, Transport, sha256_file
from perflab.transport.become import Become


def _argv(command: Command, sudo: bool, user: str = "root") -> list[str] | str:
    """The command, through ``sudo -n`` (as ``user``) when it must run as someone else."""
    if sudo and (os.geteuid() != 0 if user == "root" else getpass.getuser() != user):
        base = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        return ["sudo", "-n", *([] if user == "root" else ["-u", user]), "--", *base]
    return command if isinstance(command, str) else list(command)


def _env(extra: Mapping[str, str] | None) -> dict[str, str] | None:
    if not extra:
        return None
    merged = dict(os.environ)
    merged.update({k: str(v) for k, v in extra.items()})
    return merged


def _killpg(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class LocalProcess(Process):
    def __init__(
        self, popen: subprocess.Popen[bytes], command: Command, stderr_file: IO[bytes]
    ) -> None:
        self._popen = popen
        self._command = command
        self._stderr = stderr_file
        self._started = time.monotonic()
        self._result: CommandResult | None = None

    def lines(self) -> Iterator[str]:
        assert self._popen.stdout is not None
        for raw in self._popen.stdout:
            yield raw.decode("utf-8", "replace").rstrip("\n")

    def interrupt(self) -> None:
        _killpg(self._popen.pid, signal.SIGINT)

    def kill(self) -> None:
        _killpg(self._popen.pid, signal.SIGKILL)

    def close_stdin(self) -> None:
        stdin, self._popen.stdin = self._popen.stdin, None
        if stdin is not None:
            with contextlib.suppress(OSError):
                stdin.close()

    def wait(self, timeout: float | None = None) -> CommandResult:
        if self._result is not None:  # waited for already
            return self._result
        self.close_stdin()
        timed_out = False
        try:
            rest, _ = self._popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            self.kill()
            rest, _ = self._popen.communicate()
        self._stderr.seek(0)
        err = self._stderr.read()
        self._stderr.close()
        self._result = CommandResult(
            self._command,
            self._popen.returncode,
            rest or b"",
            err,
            time.monotonic() - self._started,
            timed_out,
        )
        return self._result


class LocalTransport(Transport):
    """Runs commands with subprocess, each in a session (process group) of its own."""

    shares_files = True

    def __init__(self, name: str = "local", become: Become | None = None) -> None:
        self.name = name
        self.python = sys.executable
        #: every command runs as ``become.user`` (``sudo -n``: no password here), when set
        self.become = become

    def _command(self, command: Command, sudo: bool) -> list[str] | str:
        user = self.become.user if self.become is not None else "root"
        return _argv(command, sudo or self.become is not None, user)

    def keep_controller_off(self, cpus: Sequence[int]) -> Callable[[], None]:
        before = os.sched_getaffinity(0)
        allowed = before - set(cpus)
        if not allowed or allowed == before:
            return lambda: None
        os.sched_setaffinity(0, allowed)
        return lambda: os.sched_setaffinity(0, before)

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
        start = time.monotonic()
        try:
            argv = self._command(command, sudo)
            popen = subprocess.Popen(
                argv,
                shell=isinstance(argv, str),
                env=_env(env),
                cwd=cwd,
                start_new_session=True,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            return CommandResult(command, 127, b"", f"{exc.filename}: not found\n".encode())
        except (NotADirectoryError, PermissionError) as exc:
            return CommandResult(command, 126, b"", f"{exc}\n".encode())
        timed_out = False
        try:
            out, err = popen.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _killpg(popen.pid, signal.SIGKILL)
            out, err = popen.communicate()
        except BaseException:
            _killpg(popen.pid, signal.SIGKILL)
            popen.wait()
            raise
        return CommandResult(
            command, popen.returncode, out, err, time.monotonic() - start, timed_out
        )

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
        # a file, so a chatty stderr cannot block; LocalProcess.wait closes it
        stderr_file = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            argv = self._command(command, sudo)
            popen = subprocess.Popen(
                argv,
                shell=isinstance(argv, str),
                env=_env(env),
                cwd=cwd,
                start_new_session=True,
                stdin=subprocess.PIPE if stdin is not None or hold_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
            )
        except OSError as exc:
            stderr_file.close()
            raise HostError(self.name, f"cannot start {command!r}: {exc}") from None
        process = LocalProcess(popen, command, stderr_file)
        if popen.stdin is not None:
            try:
                popen.stdin.write(stdin or b"")
                popen.stdin.flush()
            except BrokenPipeError:  # it ended already; wait() tells how
                hold_stdin = False
            if not hold_stdin:
                process.close_stdin()  # communicate() must not flush it again
        return process

    def get_tree(
        self,
        root: str,
        patterns: Sequence[str],
        local_dir: Path,
        *,
        max_bytes: int | None = None,
        max_files: int | None = None,
    ) -> list[FileInfo]:
        from perflab.transport.collect import local_get_tree

        return local_get_tree(
            self.name, root, patterns, local_dir, max_bytes=max_bytes, max_files=max_files
        )

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> FileInfo:
        target = Path(remote)
        target.parent.mkdir(parents=True, exist_ok=True)
        if local.resolve() != target.resolve():
            shutil.copyfile(local, target)
        if mode is not None:
            target.chmod(mode)
        return FileInfo(str(target), target.stat().st_size, sha256_file(target))

    def get(self, remote: str, local: Path, *, max_bytes: int | None = None) -> FileInfo:
        source = Path(remote)
        size = source.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise HostError(self.name, f"{remote}: {size} bytes is over the limit of {max_bytes}")
        local.parent.mkdir(parents=True, exist_ok=True)
        digest = sha256_file(source)
        if source.resolve() != local.resolve():
            shutil.copyfile(source, local)
            if sha256_file(local) != digest:
                raise HostError(self.name, f"{remote}: checksum changed while copying")
        return FileInfo(str(local), size, digest)
