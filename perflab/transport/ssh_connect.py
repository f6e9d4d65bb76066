"""The pieces of an authenticated, host-key-verified SSH connection that are perflab's own.

:mod:`perflab.transport.ssh_route` opens a runner's chain of Fabric connections
with these: the first hop's TCP socket (``open_socket``), the transport class
(``ExitAwareTransport``, made by ``new_transport``), the host-key policy
(``PinnedHostKeys``) and the login (``KeysThenPassword``). Every failure is a
HostError naming the runner and the cause: an unreachable address, an unknown
or CHANGED host key, a refused key or password (:mod:`perflab.transport.ssh_auth`).
(Key files are checked before any of this, in :mod:`perflab.transport.ssh_keys`.)
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from paramiko.auth_strategy import AuthStrategy
from paramiko.common import MSG_CHANNEL_REQUEST

from perflab.errors import Unreachable
from perflab.transport.credentials import EnvSecret
from perflab.transport.hostkeys import HostKey, check_host_key, host_entry, known_keys
from perflab.transport.ssh_auth import authenticate
from perflab.transport.ssh_keys import Hop

# paramiko logs connection failures with tracebacks from its own threads; every one of
# them reaches the caller as a HostError instead, so keep them off the user's terminal.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def open_socket(runner: str, host: str, port: int, timeout: float, keepalive: int) -> socket.socket:
    """A connected TCP socket; with keepalive, a dead peer breaks it within ~3 intervals.

    ``TCP_NODELAY`` is set (as OpenSSH does): SSH sends small messages and waits
    for the answer (a channel request, then its data), and with Nagle's algorithm
    the second waited for the peer's delayed ACK, up to 40 ms on Linux, in every
    handshake step and every command.
    """
    address = host_entry(host, port)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise Unreachable(runner, f"cannot resolve host name {host!r}: {exc.strerror}") from None
    except TimeoutError:
        raise Unreachable(
            runner,
            f"cannot connect to {address}: no answer within {timeout:g} s "
            "(host down or unreachable, or a firewall drops packets)",
        ) from None
    except ConnectionRefusedError:
        raise Unreachable(
            runner,
            f"cannot connect to {address}: connection refused "
            f"(nothing listens on port {port}; is sshd running?)",
        ) from None
    except OSError as exc:
        cause = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
        raise Unreachable(runner, f"cannot connect to {address}: {cause}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if keepalive > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in (
            ("TCP_KEEPIDLE", keepalive),
            ("TCP_KEEPINTVL", keepalive),
            ("TCP_KEEPCNT", 3),
            ("TCP_USER_TIMEOUT", 3000 * keepalive + 500),
        ):
            if hasattr(socket, option):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    return sock


def _record_request(chan: paramiko.Channel, m: paramiko.Message) -> None:
    """Channel request handler that also understands ``exit-signal`` (paramiko ignores it)."""
    start = m.packet.tell()
    key = m.get_text()
    if key not in ("exit-status", "exit-signal"):
        m.packet.seek(start)
        paramiko.Channel._handle_request(chan, m)  # type: ignore[attr-defined]
        return
    m.get_boolean()
    if key == "exit-status":
        status = m.get_int()
    else:
        name = m.get_text()
        try:
            status = -signal.Signals[f"SIG{name}"].value
        except KeyError:
            status = -255
    transport = chan.get_transport()
    if isinstance(transport, ExitAwareTransport):
        transport.exit_statuses[chan.get_id()] = status
    chan.exit_status = status
    chan.status_event.set()


class ExitAwareTransport(paramiko.Transport):
    """A client transport that records exit statuses, and signals as negative statuses."""

    _channel_handler_table = {  # noqa: RUF012 - paramiko's own class-level table, extended
        **paramiko.Transport._channel_handler_table,  # type: ignore[attr-defined]
        MSG_CHANNEL_REQUEST: _record_request,
    }

    def __init__(self, sock: Any) -> None:
        super().__init__(sock)
        self.exit_statuses: dict[int, int] = {}


@dataclass
class Connection:
    """The authenticated transport to the runner, and the chain of Fabric connections (jump
    hosts first, the runner last) that it rides on."""

    transport: ExitAwareTransport
    chain: list[Any] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.transport.is_active()

    def close(self) -> None:
        close_chain(self.chain)


def close_chain(chain: Sequence[Any]) -> None:
    """Close every client of a chain of Fabric connections, the runner's first."""
    for conn in reversed(chain):
        with contextlib.suppress(Exception):
            conn.client.close()


def _key_order(known: list[HostKey]) -> list[str]:
    """Host key algorithms with the types already pinned first (so a pinned key is used)."""
    ordered: list[str] = []
    for key in known:
        if key.key_type == "ssh-rsa":
            ordered += ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        else:
            ordered.append(key.key_type)
    rest = paramiko.Transport._preferred_keys  # type: ignore[attr-defined]
    return list(dict.fromkeys([*(k for k in ordered if k in rest), *rest]))


@dataclass
class Target:
    """Everything needed to reach, verify and log in to one hop (a jump host or the runner)."""

    runner: str
    hop: Hop
    keys: list[tuple[str, paramiko.PKey]]
    known_hosts: Sequence[Path]
    connect_timeout: float = 10.0
    keepalive: int = 15
    password: EnvSecret | None = None  # the runner's own, read when keys are not enough
    role: str = "host"  # or "jump host"


def new_transport(target: Target, sock: Any, **_options: Any) -> ExitAwareTransport:
    """perflab's transport for a hop (paramiko's ``transport_factory``): its timeouts, the key
    types already pinned for it offered first, and keepalive."""
    transport = ExitAwareTransport(sock)
    transport.banner_timeout = target.connect_timeout
    transport.handshake_timeout = target.connect_timeout
    known = [
        k.host_key
        for k in known_keys(target.known_hosts, target.hop.host, target.hop.port)
        if not k.revoked
    ]
    transport.get_security_options().key_types = _key_order(known)
    if target.keepalive > 0:
        transport.set_keepalive(target.keepalive)
    return transport


class PinnedHostKeys(paramiko.MissingHostKeyPolicy):
    """Accept a hop's key only if a known_hosts file pins exactly it (never auto-add)."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        hop = self.target.hop
        check_host_key(
            self.target.runner,
            hop.host,
            hop.port,
            HostKey.from_pkey(key),
            self.target.known_hosts,
            role=self.target.role,
        )


class KeysThenPassword(AuthStrategy):
    """perflab's login (:func:`perflab.transport.ssh_auth.authenticate`) as paramiko's
    ``auth_strategy``."""

    def __init__(self, target: Target) -> None:
        super().__init__(ssh_config=paramiko.SSHConfig())
        self.target = target

    def get_sources(self) -> Iterator[Any]:  # authenticate() below does it all
        return iter(())

    def authenticate(self, transport: paramiko.Transport) -> list[Any]:
        authenticate(self.target, self.target.hop, transport, self.target.role)
        return []
