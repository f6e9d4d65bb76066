"""Logging in on an SSH host: the client keys in turn, then (on the runner itself, not on
jump hosts) the password read from the environment variable that the runner's
``perflab_ssh_password_env`` names, at that moment.

Every failure is a HostError naming the runner, the user and what was tried; a
password is never part of a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import paramiko

from perflab.errors import HostError
from perflab.transport.hostkeys import host_entry

if TYPE_CHECKING:
    from perflab.transport.credentials import EnvSecret
    from perflab.transport.ssh_connect import Target
    from perflab.transport.ssh_keys import Hop

_HINT_NO_KEYS = (
    "set perflab_ssh_password_env to the name of an environment variable that holds the password"
)


def authenticate(target: Target, hop: Hop, transport: paramiko.Transport, role: str) -> None:
    """Log in as ``hop.user``, or raise HostError saying what was tried."""
    password = target.password if role == "host" else None
    tried, allowed, partial = _keys(target, hop, transport, role)
    if allowed == []:
        return
    if password is not None and _password(target, hop, transport, role, password):
        return
    if password is None and allowed is not None:
        hint = _HINT_NO_KEYS if "password" in allowed else None
        if partial:
            raise HostError(
                target.runner,
                f"{role} {hop} wants more than a key ({', '.join(allowed)})",
                hint=hint,
            )
        raise HostError(
            target.runner,
            f"{role} {hop} does not accept public keys (it allows: {', '.join(allowed)})",
            hint=hint,
        )
    raise _failed(target, hop, role, tried, password)


def _keys(
    target: Target, hop: Hop, transport: paramiko.Transport, role: str
) -> tuple[list[str], list[str] | None, bool]:
    """Try each key: (keys tried, methods the host still allows ([] once logged in, None
    when it refused every key), whether a key was accepted as a first step)."""
    tried: list[str] = []
    for label, key in target.keys:
        try:
            remaining = transport.auth_publickey(hop.user, key)
        except paramiko.BadAuthenticationType as exc:
            return tried, list(exc.allowed_types), False
        except paramiko.AuthenticationException:
            tried.append(label)
            continue
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise HostError(target.runner, f"authenticating to {role} {hop}: {exc}") from None
        tried.append(label)
        return tried, list(remaining), True
    return tried, None, False


def _password(
    target: Target, hop: Hop, transport: paramiko.Transport, role: str, password: EnvSecret
) -> bool:
    """Log in with the password read now (paramiko falls back to keyboard-interactive)."""
    secret = password.read()
    if secret is None:
        return False
    try:
        return not transport.auth_password(hop.user, secret)
    except paramiko.AuthenticationException:
        return False
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise HostError(target.runner, f"authenticating to {role} {hop}: {exc}") from None


def _failed(
    target: Target, hop: Hop, role: str, tried: list[str], password: EnvSecret | None
) -> HostError:
    unset = ""
    if password is not None and password.read() is None:
        unset = f"; {password.unset()}"
    elif password is not None:
        tried = [*tried, f"the password from ${password.env}"]
    keys = ", ".join(tried) if tried else "no key (no key_file, no ssh-agent, no ~/.ssh/id_*)"
    return HostError(
        target.runner,
        f"authentication as {hop.user!r} on {role} "
        f"{host_entry(hop.host, hop.port)} failed with {keys}{unset}",
        hint=f"add the public key to ~{hop.user}/.ssh/authorized_keys on the host "
        f"(ssh-copy-id -i KEY.pub {hop})",
    )
