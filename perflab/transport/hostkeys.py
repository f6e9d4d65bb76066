"""SSH host keys: scan, look up, pin, and verify against known_hosts files.

perflab never accepts a host key it has not been told to trust. A runner's key
is pinned in ``$PERFLAB_HOME/known_hosts`` (``runner add`` shows the
fingerprint and pins it only with ``--accept-new-host-key``); the user's
``~/.ssh/known_hosts`` is read too, never written. Files use OpenSSH's format,
so ``ssh-keygen -lf``, ``ssh-keygen -R`` and hashed host names all work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab.errors import HostError, InputError, Unreachable

if TYPE_CHECKING:  # paramiko is imported where used: `perflab --help` stays fast
    import paramiko


@dataclass(frozen=True)
class HostKey:
    """A host's public key: ``key_type`` like ``ssh-ed25519`` and OpenSSH's SHA256 fingerprint."""

    key_type: str
    fingerprint: str
    key: paramiko.PKey

    @classmethod
    def from_pkey(cls, key: paramiko.PKey) -> HostKey:
        return cls(key.get_name(), fingerprint(key), key)

    @classmethod
    def from_line(cls, text: str) -> HostKey:
        """Parse ``TYPE BASE64 [comment]`` (a ``.pub`` file's content)."""
        fields = text.split()
        if len(fields) < 2:
            raise ValueError(f"not a public key line: {text[:60]!r}")
        return cls.from_pkey(_pkey(fields[0], fields[1]))

    @property
    def base64(self) -> str:
        return self.key.get_base64()

    def __str__(self) -> str:
        return f"{self.key_type} {self.fingerprint}"


@dataclass(frozen=True)
class KnownKey:
    """One key found for a host in a known_hosts file, with where it was found."""

    host_key: HostKey
    file: Path
    line: int
    revoked: bool = False


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:...`` exactly as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_entry(host: str, port: int = 22) -> str:
    """The name under which OpenSSH files a host: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


def perflab_known_hosts() -> Path:
    """``$PERFLAB_HOME/known_hosts`` (``PERFLAB_HOME`` defaults to ``~/.local/share/perflab``)."""
    from perflab import config

    return config.home() / "known_hosts"


def user_known_hosts() -> Path:
    return Path.home() / ".ssh" / "known_hosts"


# -- reading --------------------------------------------------------------------------


def _pkey(key_type: str, data: str) -> paramiko.PKey:
    import paramiko

    return paramiko.PKey.from_type_string(key_type, base64.b64decode(data, validate=True))


def _name_matches(pattern: str, entry: str) -> bool:
    if pattern.startswith("|1|"):
        parts = pattern.split("|")
        if len(parts) != 4:
            return False
        try:
            salt = base64.b64decode(parts[2])
        except ValueError:
            return False
        mac = hmac.new(salt, entry.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(base64.b64encode(mac).decode(), parts[3])
    # OpenSSH patterns know only * and ? ("[host]:port" brackets are literal)
    regex = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, entry.lower()) is not None


def _host_listed(names: str, entry: str) -> bool:
    """OpenSSH semantics: any positive pattern matches and no negated (``!``) one does."""
    patterns = names.split(",")
    if any(p.startswith("!") and _name_matches(p[1:], entry) for p in patterns):
        return False
    return any(not p.startswith("!") and _name_matches(p, entry) for p in patterns)


def _entries(path: Path) -> Iterator[tuple[int, str, str, str, str]]:
    """(line number, marker, names, key type, base64) for each usable line."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot read known_hosts file {path}: {exc.strerror}") from None
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) if fields[0].startswith("@") else ""
        if len(fields) >= 3:
            yield number, marker, fields[0], fields[1], fields[2]


def known_keys(files: Sequence[Path], host: str, port: int = 22) -> list[KnownKey]:
    """Every key (and ``@revoked`` line) listed for the host in the files, in file order."""
    entry = host_entry(host, port)
    found = []
    for path in files:
        for number, marker, names, key_type, data in _entries(path):
            if marker not in ("", "@revoked") or not _host_listed(names, entry):
                continue
            try:
                key = HostKey.from_pkey(_pkey(key_type, data))
            except (ValueError, _ssh_exception()):
                continue  # a key type paramiko does not know (sk-*), or a damaged line
            found.append(KnownKey(key, path, number, revoked=marker == "@revoked"))
    return found


def known_host_key(
    known_hosts: Path | Sequence[Path], host: str, port: int = 22, key_type: str | None = None
) -> HostKey | None:
    """The first pinned (not revoked) key for the host, of ``key_type`` if given."""
    files = [known_hosts] if isinstance(known_hosts, Path) else list(known_hosts)
    for known in known_keys(files, host, port):
        if not known.revoked and key_type in (None, known.host_key.key_type):
            return known.host_key
    return None


def _ssh_exception() -> type[Exception]:
    import paramiko

    return paramiko.SSHException


# -- verifying ------------------------------------------------------------------------


def check_host_key(
    runner: str,
    host: str,
    port: int,
    offered: HostKey,
    files: Sequence[Path],
    *,
    role: str = "host",
) -> None:
    """Accept the offered key only if a known_hosts file pins exactly it; else HostError."""
    address = host_entry(host, port)
    known = known_keys(files, host, port)
    if any(k.revoked and k.host_key.key == offered.key for k in known):
        raise HostError(runner, f"{role} {address} offers a REVOKED host key ({offered})")
    pinned = [k for k in known if not k.revoked]
    if any(k.host_key.key == offered.key for k in pinned):
        return
    if pinned:
        old = pinned[0]
        raise HostError(
            runner,
            f"host key of {role} {address} has CHANGED: {old.file}:{old.line} pins "
            f"{old.host_key}, the host now offers {offered}. Someone may be intercepting "
            "the connection (man in the middle), or the host was reinstalled; not connecting",
            hint=f"verify the new key on the host itself (ssh-keygen -lf /etc/ssh/ssh_host_*.pub), "
            f"then remove the old one: ssh-keygen -R '{address}' -f {old.file}, "
            "and add the runner again with --accept-new-host-key",
        )
    shown = ", ".join(str(f) for f in files)
    raise HostError(
        runner,
        f"host key of {role} {address} is not known ({offered}); "
        f"not in {shown}. perflab never accepts unknown host keys",
        hint="compare the fingerprint with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*.pub "
        "on it), then pin it: perflab runner add ... --accept-new-host-key",
    )


# -- pinning --------------------------------------------------------------------------


def pin_host_key(
    known_hosts: Path, host: str, port: int, key: HostKey, *, replace: bool = False
) -> bool:
    """Add ``key`` for the host to ``known_hosts``; False if it was already pinned.

    A different key of the same type already pinned is a HostError (the key
    changed) unless ``replace`` says to drop the old line.
    """
    entry = host_entry(host, port)
    pinned = [k for k in known_keys([known_hosts], host, port) if not k.revoked]
    if any(k.host_key.key == key.key for k in pinned):
        return False
    clash = [k for k in pinned if k.host_key.key_type == key.key_type]
    if clash and not replace:
        raise HostError(
            entry,
            f"host key CHANGED: {known_hosts}:{clash[0].line} pins "
            f"{clash[0].host_key}, refusing to pin {key} beside it",
        )
    lines = _read_lines(known_hosts)
    drop = {k.line for k in clash}
    kept = [line for number, line in enumerate(lines, 1) if number not in drop]
    kept.append(f"{entry} {key.key_type} {key.base64}")
    _write_private(known_hosts, "".join(f"{line}\n" for line in kept))
    return True


def trust_host_key(
    runner: str,
    host: str,
    port: int,
    offered: HostKey,
    *,
    known_hosts: Path,
    others: Sequence[Path] = (),
    accept_new: bool = False,
) -> str:
    """What ``runner add`` does with the key a host offers; returns "known" or "pinned".

    A key already trusted (in ``known_hosts`` or one of ``others``, e.g. the
    user's ``~/.ssh/known_hosts``) is pinned in ``known_hosts`` too and "known".
    An unknown key is pinned only with ``accept_new`` ("pinned"), else the
    HostError tells its fingerprint. A CHANGED key is always refused: the old
    line must be removed by hand after checking the host.
    """
    files = [known_hosts, *others]
    try:
        check_host_key(runner, host, port, offered, files)
    except HostError as exc:
        if not accept_new or "CHANGED" in exc.message or "REVOKED" in exc.message:
            raise
        pin_host_key(known_hosts, host, port, offered)
        return "pinned"
    pin_host_key(known_hosts, host, port, offered)
    return "known"


def forget_host_key(known_hosts: Path, host: str, port: int = 22) -> int:
    """Remove every line pinning a key for the host; returns how many were removed."""
    drop = {k.line for k in known_keys([known_hosts], host, port)}
    if drop:
        lines = _read_lines(known_hosts)
        kept = [line for number, line in enumerate(lines, 1) if number not in drop]
        _write_private(known_hosts, "".join(f"{line}\n" for line in kept))
    return len(drop)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _write_private(path: Path, text: str) -> None:
    """Write atomically, the file mode 0600 and a new parent directory 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".known_hosts-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- scanning -------------------------------------------------------------------------


def scan_host_key(
    host: str,
    port: int = 22,
    timeout: float = 10.0,
    *,
    sock: Any = None,
    key_types: Sequence[str] | None = None,
    runner: str | None = None,
) -> HostKey:
    """Connect (no authentication) and return the key the server proves it holds.

    ``sock`` is an already open socket or channel (a ProxyJump hop); ``key_types``
    restricts the negotiation (e.g. to the type already pinned).
    """
    label = runner or host_entry(host, port)
    if sock is None:
        from perflab.transport.ssh_connect import open_socket

        sock = open_socket(label, host, port, timeout, keepalive=0)
    import paramiko

    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.handshake_timeout = timeout
        if key_types:
            transport.get_security_options().key_types = tuple(key_types)
        try:
            transport.start_client(timeout=timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise Unreachable(
                label,
                f"SSH handshake with {host_entry(host, port)} failed: {exc or type(exc).__name__}",
            ) from None
        return HostKey.from_pkey(transport.get_remote_server_key())
    finally:
        transport.close()
