"""Files over SFTP for the SSH transport, checked with sha256 hashes made on the host.

The host computes sizes and hashes with :mod:`perflab.transport.artifacts`
(one ``python3`` round trip, also for a whole artifact tree); the bytes travel
over the connection's one SFTP channel and are hashed again as they land.
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import paramiko

from perflab.errors import HostError
from perflab.transport import artifacts, collect
from perflab.transport.base import FileInfo
from perflab.transport.ssh_command import file_script
from perflab.transport.ssh_connect import Connection

if TYPE_CHECKING:
    from perflab.transport.ssh import SSHTransport

HELPER_TIMEOUT_S = 300.0


@functools.cache
@functools.cache
def _artifacts_source() -> str:
    return Path(artifacts.__file__).read_text(encoding="utf-8")


class SFTPFiles:
    """put / get / get_tree of one :class:`SSHTransport`, over its connection's SFTP channel."""

    def __init__(self, owner: SSHTransport) -> None:
        self.owner = owner
        self._sftp: paramiko.SFTPClient | None = None
        self._sftp_conn: Connection | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget the SFTP client (its connection is being closed)."""
        if self._sftp is not None:
            with contextlib.suppress(Exception):
                self._sftp.close()
        self._sftp = self._sftp_conn = None

    def upload_script(self, script: str) -> str:
        """A command too long for one exec argument goes as a file (it deletes itself)."""
        path = f"/tmp/perflab-cmd-{secrets.token_hex(8)}.sh"
        with self.session() as sftp, sftp.open(path, "wx") as handle:
            sftp.chmod(path, 0o600)
            handle.write(file_script(script).encode())
        return path

    def _error(self, message: str) -> HostError:
        return HostError(self.owner.name, message)

    @contextlib.contextmanager
    def session(self) -> Iterator[paramiko.SFTPClient]:
        """The connection's SFTP client (opened once), used by one thread at a time."""
        with self._lock:
            conn = self.owner.connection()
            if self._sftp is None or self._sftp_conn is not conn:
                try:
                    self._sftp = paramiko.SFTPClient.from_transport(conn.transport)
                except (paramiko.SSHException, EOFError, OSError) as exc:
                    raise self._error(
                        f"cannot open SFTP on {self.owner.address}: {exc} (is "
                        "the sftp subsystem enabled in sshd?)"
                    ) from None
                self._sftp_conn = conn
            assert self._sftp is not None
            yield self._sftp

    def host_files(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Ask the host-side artifact helper (one round trip) for a manifest."""
        result = self.owner.run(
            self.owner.helper_argv(_artifacts_source()),
            stdin=json.dumps(request).encode(),
            timeout=HELPER_TIMEOUT_S,
        )
        if not result.ok:
            raise self._error(
                f"listing files on the host failed (exit {result.exit_status}): "
                f"{result.stderr_tail(5)}"
            )
        try:
            answer: dict[str, Any] = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise self._error(f"the file listing helper answered garbage: {exc}") from None
        return answer

    def stat(self, path: str) -> collect.Entry:
        """Size and sha256 of one file on the host."""
        answer = self.host_files({"op": "stat", "paths": [path]})
        if "error" in answer:
            raise self._error(str(answer["error"]))
        item = answer["files"][0]
        return collect.Entry(path, str(item["path"]), int(item["size"]), str(item["sha256"]))

    @staticmethod
    def _chunks(sftp: paramiko.SFTPClient, path: str, size: int) -> Iterator[bytes]:
        with sftp.open(path, "rb") as handle:
            handle.prefetch(size)
            yield from iter(lambda: handle.read(1 << 20), b"")

    def _download(self, entry: collect.Entry, target: Path) -> FileInfo:
        with self.session() as sftp:
            try:
                return collect.receive(
                    self.owner.name, entry, target, self._chunks(sftp, entry.path, entry.size)
                )
            except (OSError, paramiko.SSHException) as exc:
                raise self._error(f"copying {entry.path} to {target}: {_reason(exc)}") from None

    def get(self, remote: str, local: Path, *, max_bytes: int | None = None) -> FileInfo:
        entry = self.stat(remote)
        if max_bytes is not None and entry.size > max_bytes:
            raise self._error(f"{remote}: {entry.size} bytes is over the limit of {max_bytes}")
        return self._download(entry, local)

    def get_tree(
        self,
        root: str,
        patterns: Sequence[str],
        local_dir: Path,
        *,
        max_bytes: int | None = None,
        max_files: int | None = None,
    ) -> list[FileInfo]:
        """One manifest round trip, then each file over SFTP into ``local_dir/<rel>``."""
        patterns = collect.check_patterns(patterns)
        answer = self.host_files(
            {
                "op": "tree",
                "root": root,
                "patterns": patterns,
                "max_files": max_files,
                "max_bytes": max_bytes,
            }
        )
        return [
            self._download(entry, collect.destination(local_dir, entry.rel))
            for entry in collect.entries(self.owner.name, answer)
        ]

    def put(self, local: Path, remote: str, *, mode: int | None = None) -> FileInfo:
        """Upload to a temporary name, set the mode, rename into place, compare hashes."""
        digest = artifacts.sha256(str(local))
        target = PurePosixPath(remote)
        tmp = str(target.parent / f".{target.name}.perflab-{secrets.token_hex(4)}.part")
        with self.session() as sftp:
            try:
                self._upload(sftp, local, tmp, remote, mode)
            except (OSError, paramiko.SSHException) as exc:
                with contextlib.suppress(OSError, paramiko.SSHException):
                    sftp.remove(tmp)
                raise self._error(f"copying {local} to {remote}: {_reason(exc)}") from None
        entry = self.stat(remote)
        if entry.sha256 != digest:
            raise self._error(
                f"{remote}: its sha256 on the host differs from {local}'s; the "
                "copy is damaged or was changed meanwhile"
            )
        return FileInfo(remote, entry.size, entry.sha256)

    def _upload(
        self, sftp: paramiko.SFTPClient, local: Path, tmp: str, remote: str, mode: int | None
    ) -> None:
        self._makedirs(sftp, str(PurePosixPath(remote).parent))
        if mode is None:
            with contextlib.suppress(OSError):
                mode = sftp.stat(remote).st_mode  # keep an existing file's mode, as cp does
        sftp.put(str(local), tmp, confirm=True)
        if mode is not None:
            sftp.chmod(tmp, mode & 0o7777)
        sftp.posix_rename(tmp, remote)

    def _makedirs(self, sftp: paramiko.SFTPClient, directory: str) -> None:
        if directory in ("", ".", "/"):
            return
        try:
            sftp.stat(directory)
        except FileNotFoundError:
            self._makedirs(sftp, str(PurePosixPath(directory).parent))
            with contextlib.suppress(OSError):
                sftp.mkdir(directory)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
