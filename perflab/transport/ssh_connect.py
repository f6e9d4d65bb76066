"""Opening an authenticated, host-key-verified SSH connection (optionally via ProxyJump hops).

Every failure is a HostError naming the runner and the cause: an unreachable
address, an unknown or CHANGED host key, a refused key or password
(:mod:`perflab.transport.ssh_auth`). (Key files are checked before any of
this, in :mod:`perflab.transport.ssh_keys`.)
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from paramiko.common import MSG_CHANNEL_REQUEST

from perflab.errors import HostError, Unreachable
from perflab.transport.credentials import EnvSecret
from perflab.transport.hostkeys import HostKey, check_host_key, host_entry, known_keys
from perflab.transport.ssh_auth import authenticate
from perflab.transport.ssh_keys import Hop

# paramiko logs connection failures with tracebacks from its own threads; every one of
# them reaches the caller as a HostError instead, so keep them off the user's terminal.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def open_socket(runner: str, host: str, port: int, timeout: float,
                keepalive: int) -> socket.socket:
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
        raise Unreachable(runner, f"cannot connect to {address}: no answer within {timeout:g} s "
                                "(host down or unreachable, or a firewall drops packets)") from None
    except ConnectionRefusedError:
        raise Unreachable(runner, f"cannot connect to {address}: connection refused "
                                f"(nothing listens on port {port}; is sshd running?)") from None
    except OSError as exc:
        cause = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
        raise Unreachable(runner, f"cannot connect to {address}: {cause}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if keepalive > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in (("TCP_KEEPIDLE", keepalive), ("TCP_KEEPINTVL", keepalive),
                              ("TCP_KEEPCNT", 3), ("TCP_USER_TIMEOUT", 3000 * keepalive + 500)):
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
    """The authenticated transport to the runner and the jump hops it rides on."""

    transport: ExitAwareTransport
    hops: list[paramiko.Transport] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.transport.is_active()

    def close(self) -> None:
        for transport in [self.transport, *reversed(self.hops)]:
            with contextlib.suppress(Exception):
                transport.close()


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
    """Everything needed to reach and verify one runner."""

    runner: str
    hop: Hop
    keys: list[tuple[str, paramiko.PKey]]
    known_hosts: Sequence[Path]
    connect_timeout: float = 10.0
    keepalive: int = 15
    password: EnvSecret | None = None  # the runner's own, read when keys are not enough


def handshake(target: Target, hop: Hop, sock: Any, role: str) -> ExitAwareTransport:
    """SSH handshake on ``sock`` and host key verification; no authentication yet."""
    transport = ExitAwareTransport(sock)
    try:
        transport.banner_timeout = target.connect_timeout
        transport.handshake_timeout = target.connect_timeout
        known = [k.host_key for k in known_keys(target.known_hosts, hop.host, hop.port)
                 if not k.revoked]
        transport.get_security_options().key_types = _key_order(known)
        try:
            transport.start_client(timeout=target.connect_timeout)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            address = host_entry(hop.host, hop.port)
            raise HostError(target.runner, f"SSH handshake with {role} {address} failed: "
                                           f"{exc or type(exc).__name__}") from None
        offered = HostKey.from_pkey(transport.get_remote_server_key())
        check_host_key(target.runner, hop.host, hop.port, offered, target.known_hosts, role=role)
        if target.keepalive > 0:
            transport.set_keepalive(target.keepalive)
        return transport
    except BaseException:
        transport.close()
        raise


def open_channel_socket(target: Target, via: paramiko.Transport, hop: Hop,
                        jump: Hop) -> paramiko.Channel:
    """A direct-tcpip channel through jump host ``jump`` to ``hop`` (ProxyJump)."""
    try:
        return via.open_channel("direct-tcpip", (hop.host, hop.port), ("127.0.0.1", 0),
                                timeout=target.connect_timeout)
    except paramiko.ChannelException as exc:
        raise HostError(target.runner, f"jump host {jump} cannot reach "
                                       f"{host_entry(hop.host, hop.port)}: {exc.text}") from None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise HostError(target.runner, f"jump host {jump} cannot reach "
                                       f"{host_entry(hop.host, hop.port)}: {exc}") from None


def connect(target: Target, jumps: Sequence[Hop] = ()) -> Connection:
    """Open (through ``jumps`` in order) an authenticated connection to ``target.hop``."""
    hops: list[ExitAwareTransport] = []
    try:
        chain = [*jumps, target.hop]
        sock: Any = open_socket(target.runner, chain[0].host, chain[0].port,
                                target.connect_timeout, target.keepalive)
        for index, hop in enumerate(chain):
            role = "host" if index == len(chain) - 1 else "jump host"
            if index:
                sock = open_channel_socket(target, hops[-1], hop, chain[index - 1])
            transport = handshake(target, hop, sock, role)
            hops.append(transport)
            authenticate(target, hop, transport, role)
        final = hops.pop()
        return Connection(final, list(hops))
    except BaseException:
        for transport in reversed(hops):
            transport.close()
        raise


def open_hops(target: Target, jumps: Sequence[Hop]) -> tuple[list[paramiko.Transport], Any]:
    """Connect through the jump hosts and return them with a socket to the target (for scans)."""
    if not jumps:
        return [], open_socket(target.runner, target.hop.host, target.hop.port,
                               target.connect_timeout, 0)
    jump_target = Target(target.runner, jumps[-1], target.keys, target.known_hosts,
                         target.connect_timeout, target.keepalive)
    conn = connect(jump_target, jumps[:-1])
    hops = [*conn.hops, conn.transport]
    try:
        return hops, open_channel_socket(target, conn.transport, target.hop, jumps[-1])
    except BaseException:
        conn.close()
        raise
