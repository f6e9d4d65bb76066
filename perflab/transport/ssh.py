"""The SSH transport: a runner reached with paramiko, host keys verified, one connection reused.

Commands run in their own session on the host (sshd's ``setsid``): a timeout,
``interrupt`` or ``kill`` signals that whole process group over a second
channel. Files travel over SFTP and are verified with sha256 hashes computed
on the host (:mod:`perflab.transport.artifacts`, one round trip for a whole
artifact tree). Each ``exec`` costs sshd ~0.1 s, so callers batch work into
few commands (``call_hostside``).
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

import paramiko

from perflab.errors import HostError, Unreachable
from perflab.transport.base import Command, CommandResult, FileInfo, Process, Transport
from perflab.transport.become import HANDSHAKE_TIMEOUT_S, Become, handshake
from perflab.transport.credentials import Credentials, typed_secret
from perflab.transport.hostkeys import (
    HostKey,
    host_entry,
    scan_host_key,
    trust_host_key,
    user_known_hosts,
)
from perflab.transport.ssh_channel import RemoteCommand, SSHProcess, Started, describe
from perflab.transport.ssh_command import (
    MAX_INLINE,
    file_runner,
    kill_script,
    remote_script,
    sudo_refusal,
)
from perflab.transport.ssh_config import NO_CONFIG, SSHConfigFiles
from perflab.transport.ssh_connect import Connection, ExitAwareTransport, close_chain
from perflab.transport.ssh_files import SFTPFiles
from perflab.transport.ssh_route import Login, Wanted, open_gateway, open_route, plan_route

SIGNAL_TIMEOUT_S = 10.0
_DEFAULT = Path("~/.ssh/known_hosts")
_NO_CREDENTIALS = Credentials()


class SSHTransport(Transport):
    """One runner over SSH. Connects lazily on first use; ``close`` ends the connection."""

    python = "python3"

    def __init__(
        self,
        name: str,
        host: str,
        *,
        port: int | None = None,
        user: str | None = None,
        key_file: Path | None = None,
        known_hosts: Path,
        proxy_jump: str | None = None,
        proxy_command: str | None = None,
        connect_timeout: float | None = None,
        keepalive: int | None = None,
        credentials: Credentials = _NO_CREDENTIALS,
        user_known_hosts_file: Path | None = _DEFAULT,
        python: str | None = None,
        ssh_config: SSHConfigFiles = NO_CONFIG,
        become: Become | None = None,
    ) -> None:
        self.name = name
        if python:
            self.python = python
        #: how the runner is reached: ``host`` looked up in ``ssh_config``, the values given
        #: here winning over the config's (see :mod:`perflab.transport.ssh_route`)
        self.route = plan_route(
            name,
            Wanted(
                host, port, user, key_file, proxy_jump, proxy_command, connect_timeout, keepalive
            ),
            ssh_config,
        )
        hop = self.route.hop
        self.host, self.port, self.user = hop.host, hop.port, hop.user
        self.key_file = key_file
        self.known_hosts = known_hosts
        self.connect_timeout = self.route.connect_timeout
        self.keepalive = self.route.keepalive
        #: references to the secrets it may need (never the secrets: read when needed)
        self.credentials = credentials
        #: every command runs as ``become.user`` (Ansible's become), when set
        self.become = become
        extra = user_known_hosts() if user_known_hosts_file == _DEFAULT else user_known_hosts_file
        self.known_hosts_files = [known_hosts, *([extra] if extra is not None else [])]
        #: how many SSH connections this object opened (one per run, unless one broke)
        self.connections_opened = 0
        self._conn: Connection | None = None
        self._lock = threading.RLock()
        self.files = SFTPFiles(self)
        self._running: weakref.WeakSet[SSHProcess] = weakref.WeakSet()

    @property
    def address(self) -> str:
        return f"{self.user}@{host_entry(self.host, self.port)}"

    def __repr__(self) -> str:
        return f"SSHTransport({self.name!r}, {self.address!r})"

    # -- connection -------------------------------------------------------------------

    def _login(self) -> Login:
        return Login(self.name, self.key_file, self.known_hosts_files, self.credentials)

    def connection(self) -> Connection:
        """The live connection, opened (or reopened after a failure) on demand."""
        with self._lock:
            if self._conn is not None and self._conn.active:
                return self._conn
            self._drop_connection()
            self._conn = open_route(self.route, self._login())
            self.connections_opened += 1
            return self._conn

    def _drop_connection(self) -> None:
        self.files.reset()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def scan_host_key(self) -> HostKey:
        """The key the host offers now (through the jump hosts, which must be known)."""
        gateways, sock = open_gateway(self.route, self._login())
        try:
            return scan_host_key(
                self.host, self.port, self.connect_timeout, sock=sock, runner=self.name
            )
        finally:
            close_chain(gateways)

    def trust_host_key(self, *, accept_new: bool = False) -> tuple[HostKey, str]:
        """For ``runner add``: scan the host's key, then :func:`hostkeys.trust_host_key` it.

        Returns the key (show its fingerprint) and "known" or "pinned".
        """
        key = self.scan_host_key()
        state = trust_host_key(
            self.name,
            self.host,
            self.port,
            key,
            known_hosts=self.known_hosts,
            others=self.known_hosts_files[1:],
            accept_new=accept_new,
        )
        return key, state

    def close(self) -> None:
        """Kill processes started here that still run, then close the connection."""
        for process in list(self._running):
            with contextlib.suppress(Exception):
                process.kill()
        with self._lock:
            self._drop_connection()

    # -- commands ---------------------------------------------------------------------

    def _open(self, script: str) -> tuple[ExitAwareTransport, paramiko.Channel]:
        conn = self.connection()
        if len(script.encode()) > MAX_INLINE:
            script = file_runner(self.files.upload_script(script))
        try:
            chan = conn.transport.open_session(timeout=self.connect_timeout)
            chan.exec_command(script)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Unreachable(
                self.name, f"cannot start a command on {self.address}: {exc or type(exc).__name__}"
            ) from None
        return conn.transport, chan

    def _prepare(
        self, command: Command, env: Mapping[str, str] | None, cwd: str | None, sudo: bool
    ) -> tuple[RemoteCommand, str | None]:
        """The command's channel, and the sudo password to answer sudo's prompt with."""
        sudo = sudo or self.become is not None
        password = self._become_password()[0] if sudo else None
        script = remote_script(
            command,
            env=env,
            cwd=cwd,
            sudo=sudo,
            sudo_user=self._sudo_user,
            sudo_password=password is not None,
        )
        transport, chan = self._open(script)
        return RemoteCommand(
            self.name, transport, chan, command, signaller=self._signal, sudo=sudo
        ), password

    def _begin(
        self,
        remote: RemoteCommand,
        password: str | None,
        stdin: bytes | None,
        deadline: float | None,
        hold: bool = False,
    ) -> Started:
        """Start: the prologue, sudo's prompt answered (before any input), then stdin."""
        try:
            if password is None:
                remote.send_stdin(stdin, hold=hold)
                return remote.read_prologue(deadline)
            started = remote.read_prologue(deadline)
            answer = handshake(remote, password, deadline) if started.pgid else "ended"
            if answer in ("refused", "timeout"):
                said = (
                    "did not accept " + self._become_password()[1]
                    if answer == "refused"
                    else f"did not answer within {HANDSHAKE_TIMEOUT_S:g} s"
                )
                raise HostError(
                    self.name,
                    f"sudo {said} for {self.user}, so `{describe(remote.command)}` was not run",
                )
            remote.send_stdin(stdin, hold=hold)
            return started
        except BaseException:
            remote.abort()
            raise

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
        remote, password = self._prepare(command, env, cwd, sudo)
        self._begin(remote, password, stdin, None if timeout is None else start + timeout)
        left = None if timeout is None else max(0.0, start + timeout - time.monotonic())
        result = remote.finish(left)
        if remote.sudo:
            self._check_sudo(command, result)
        return result

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
        remote, password = self._prepare(command, env, cwd, sudo)
        started = self._begin(remote, password, stdin, None, hold=hold_stdin)
        if started.pgid is None:
            result = remote.finish(SIGNAL_TIMEOUT_S)
            raise HostError(
                self.name,
                f"cannot start `{describe(command)}`: "
                f"{started.error or result.stderr_tail(3).strip()}",
            )
        process = SSHProcess(remote, self._running.discard)
        self._running.add(process)
        return process

    # -- becoming another user (see become) ---------------------------------------------

    @property
    def _sudo_user(self) -> str:
        return self.become.user if self.become is not None else "root"

    def _become_password(self) -> tuple[str | None, str]:
        """The sudo password, read now (the runner's variable first, then a typed one), and
        where it came from, for messages."""
        reference = self.credentials.become_password
        value = reference.read() if reference is not None else None
        if value is not None and reference is not None:
            return value, f"the password from ${reference.env}"
        return typed_secret("become"), "the password typed at the prompt"

    def _check_sudo(self, command: Command, result: CommandResult) -> None:
        refusal = sudo_refusal(result.exit_status, result.stderr)
        if refusal == "password":
            raise HostError(
                self.name,
                f"sudo asks for a password for {self.user}, so "
                f"`{describe(command)}` was not run{self._sudo_note()}",
                hint="allow passwordless sudo (NOPASSWD) for this user, connect as "
                "root, set perflab_become_password_env to the name of an "
                "environment variable that holds the sudo password, or give "
                "it at the prompt of -K/--ask-become-pass",
            )
        if refusal == "missing":
            raise HostError(
                self.name,
                f"sudo is not installed and {self.user} is not "
                f"{self._sudo_user}, so `{describe(command)}` cannot run "
                f"as {self._sudo_user}",
            )

    def _sudo_note(self) -> str:
        reference = self.credentials.become_password
        if reference is None or reference.read() is not None:
            return ""
        return f"; {reference.unset()}"

    def _signal(self, pgid: int, sig: str, sudo: bool) -> None:
        """Send ``sig`` to a remote process group, over a channel of its own (through sudo,
        answering its prompt, when the group runs as another user)."""
        if sudo and self._become_password()[0] is not None:
            self.run(kill_script(pgid, sig, sudo=False), sudo=True, timeout=SIGNAL_TIMEOUT_S)
            return
        _, chan = self._open(kill_script(pgid, sig, sudo=sudo, sudo_user=self._sudo_user))
        try:
            chan.shutdown_write()
            if not chan.status_event.wait(SIGNAL_TIMEOUT_S):
                raise HostError(
                    self.name,
                    f"no answer within {SIGNAL_TIMEOUT_S:g} s "
                    f"to kill -{sig} of process group {pgid}",
                )
        finally:
            chan.close()

    # -- files (over SFTP, see ssh_files) ---------------------------------------------

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> FileInfo:
        return self.files.put(local, remote, mode=mode)

    def get(self, remote: str, local: Path, *, max_bytes: int | None = None) -> FileInfo:
        return self.files.get(remote, local, max_bytes=max_bytes)

    def get_tree(
        self,
        root: str,
        patterns: Sequence[str],
        local_dir: Path,
        *,
        max_bytes: int | None = None,
        max_files: int | None = None,
    ) -> list[FileInfo]:
        """Copy the files ``patterns`` name under ``root`` into ``local_dir`` (same layout).

        Globs are resolved on the host; absolute patterns, ``..`` and symlinks
        leading out of ``root`` are refused. ``max_bytes`` bounds the total.
        """
        return self.files.get_tree(
            root, patterns, local_dir, max_bytes=max_bytes, max_files=max_files
        )
