"""Secrets perflab uses without keeping them: references to environment variables.

A runner's ``perflab_ssh_password_env``, ``perflab_become_password_env`` and
``perflab_ssh_key_passphrase_env`` variables hold the *name* of an environment
variable. The secret is read from perflab's own environment at the moment it
is needed (logging in, opening the key file, sudo asking) and is never stored,
logged, printed, or put on a command line (a sudo password goes on the
command's stdin, read by the remote shell).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from perflab.secret_vars import BECOME_PASSWORD_ENV, KEY_PASSPHRASE_ENV, SSH_PASSWORD_ENV


@dataclass(frozen=True)
class EnvSecret:
    """A secret known only by where to read it: ``variable`` (a runner variable) names the
    environment variable ``env``."""

    variable: str
    env: str

    def read(self) -> str | None:
        """The secret, read now; None when the environment variable is not set."""
        return os.environ.get(self.env)

    def unset(self) -> str:
        """Says that the variable is missing (for error messages)."""
        return f"{self.variable} names ${self.env}, which is not set in perflab's environment"


@dataclass(frozen=True)
class Credentials:
    """The secrets an SSH runner may need, as references (all optional)."""

    ssh_password: EnvSecret | None = None
    become_password: EnvSecret | None = None
    key_passphrase: EnvSecret | None = None

    @classmethod
    def from_vars(cls, variables: Mapping[str, Any]) -> Credentials:
        """The references a runner's variables hold."""

        def ref(name: str) -> EnvSecret | None:
            value = variables.get(name)
            return EnvSecret(name, str(value)) if value else None

        return cls(
            ssh_password=ref(SSH_PASSWORD_ENV),
            become_password=ref(BECOME_PASSWORD_ENV),
            key_passphrase=ref(KEY_PASSPHRASE_ENV),
        )


_typed: dict[str, str] = {}
_typed_lock = threading.Lock()


def typed_secret(kind: str) -> str | None:
    """What the user typed at a prompt for ``kind`` ("become") in this command, if anything."""
    with _typed_lock:
        return _typed.get(kind)


@contextmanager
def typed(kind: str, value: str) -> Iterator[None]:
    """Use ``value``, typed at a prompt (``-K``), as the ``kind`` secret inside the block: in
    this process's memory only, forgotten when the block ends."""
    with _typed_lock:
        _typed[kind] = value
    try:
        yield
    finally:
        with _typed_lock:
            _typed.pop(kind, None)
