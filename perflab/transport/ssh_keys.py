"""Who perflab is on a runner: ProxyJump hops and the client keys it offers.

Key files are checked before any connection is attempted: a missing file, or
one that group or others may read, is bad input (exit 3), as OpenSSH refuses
such keys too. An encrypted key file is opened with the passphrase read, at
that moment, from the environment variable ``perflab_ssh_key_passphrase_env``
names.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from perflab.errors import InputError
from perflab.transport.credentials import EnvSecret
from perflab.transport.hostkeys import host_entry

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")
_HOP = re.compile(
    r"^(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:@\s]+))"
    r"(?::(?P<port>\d+))?$"
)


@dataclass(frozen=True)
class Hop:
    """One SSH endpoint: ``[user@]host[:port]``."""

    host: str
    port: int = 22
    user: str = ""

    def __str__(self) -> str:
        return f"{self.user}@{host_entry(self.host, self.port)}"


def jump_specs(spec: str) -> list[tuple[str | None, str, int | None]]:
    """ProxyJump syntax, as ``ssh -J``: ``[ssh://][user@]host[:port]`` hops separated by
    commas, as (user, host, port); a user or port not written is None."""
    hops = []
    for part in spec.split(","):
        text = part.strip().removeprefix("ssh://")
        match = _HOP.match(text)
        if not match:
            raise InputError(
                f"expected [user@]host[:port], got {part.strip()!r}", field="proxy_jump"
            )
        hops.append(
            (
                match["user"],
                match["v6"] or match["host"],
                int(match["port"]) if match["port"] else None,
            )
        )
    return hops


def default_user() -> str:
    return getpass.getuser()


# -- client keys ------------------------------------------------------------------------


def check_key_file(runner: str, path: Path) -> None:
    """InputError if the private key file is missing or readable by group or others."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"runner {runner}: SSH key file {path} does not exist") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"runner {runner}: SSH key file {path} is not a regular file")
    if mode & 0o077:
        raise InputError(
            f"runner {runner}: SSH key file {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); a private key must be private",
            hint=f"chmod 600 {path}",
        )


def load_key(runner: str, path: Path, passphrase: EnvSecret | None = None) -> paramiko.PKey:
    """The private key in ``path``; an encrypted one is opened with the passphrase that
    ``passphrase`` names, read now."""
    check_key_file(runner, path)
    try:
        return paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException:
        return _load_encrypted(runner, path, passphrase)
    except TypeError as exc:  # cryptography's way of saying "encrypted, no password given"
        if "password" not in str(exc).lower():
            raise
        return _load_encrypted(runner, path, passphrase)
    except (paramiko.SSHException, ValueError, OSError) as exc:
        raise InputError(
            f"runner {runner}: SSH key file {path} is not a private key paramiko can read: {exc}"
        ) from None


def _load_encrypted(runner: str, path: Path, passphrase: EnvSecret | None) -> paramiko.PKey:
    secret = passphrase.read() if passphrase is not None else None
    if passphrase is None or secret is None:
        unset = f", and {passphrase.unset()}" if passphrase is not None else ""
        raise InputError(
            f"runner {runner}: SSH key file {path} is encrypted with a passphrase{unset}",
            hint="set perflab_ssh_key_passphrase_env to the name of an environment "
            "variable that holds it, or load the key into ssh-agent and "
            "leave key_file unset",
        )
    try:
        # typed differently across paramiko's stubs (str in 5.x, bytes at run time)
        key_passphrase: Any = secret.encode()
        return paramiko.PKey.from_path(path, key_passphrase)
    except (paramiko.SSHException, ValueError, TypeError):
        raise InputError(
            f"runner {runner}: the passphrase from ${passphrase.env} does not "
            f"open SSH key file {path}"
        ) from None


def client_keys(
    runner: str, key_file: Path | None, passphrase: EnvSecret | None = None
) -> list[tuple[str, paramiko.PKey]]:
    """(label, key) pairs to try: the key file, else ssh-agent keys and ~/.ssh/id_* files
    (an encrypted file opened with ``passphrase``)."""
    if key_file is not None:
        return [(str(key_file), load_key(runner, key_file, passphrase))]
    keys: list[tuple[str, paramiko.PKey]] = []
    if os.environ.get("SSH_AUTH_SOCK"):
        with contextlib.suppress(paramiko.SSHException, OSError):
            keys += [(f"ssh-agent key {k.fingerprint}", k) for k in paramiko.Agent().get_keys()]
    for name in DEFAULT_KEYS:
        path = Path.home() / ".ssh" / name
        if path.exists():
            keys.append((str(path), load_key(runner, path, passphrase)))
    return keys
