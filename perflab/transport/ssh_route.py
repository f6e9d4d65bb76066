"""How a runner is reached: the SSH config applied through Fabric's ``Connection``.

A runner's address is looked up in the SSH config (:mod:`perflab.transport.ssh_config`)
as ``ssh`` would look it up; what the caller says (an inventory's ``ansible_port``,
``ansible_user``, ``ansible_ssh_private_key_file``, ``perflab_proxy_jump`` ...)
wins over the config, as ``ssh -p/-l/-i/-J`` win over it for Ansible. Fabric
resolves each endpoint (``HostName``, ``User``, ``Port``, ``IdentityFile``) and
opens the chain (``SSHClient.connect`` through each gateway's ``direct-tcpip``
channel, or a ``ProxyCommand``); perflab sets, on every ``Connection`` of the
chain before ``open()``:

- its pinned host-key policy (Fabric's default is ``AutoAddPolicy``; perflab never
  accepts a key it was not told to trust), for each hop's own address;
- its transport class (``transport_factory``: exit signals, pinned key types first,
  keepalive) and its logins (``auth_strategy``: the keys, then a password
  from the environment, with errors that say what was tried);
- the first hop's socket (``TCP_NODELAY``, TCP keepalive, clear errors).

The gateway chain is built here rather than by Fabric's ``get_gateway``, which
deep-copies the whole config per hop, reads ``ProxyJump none`` as a host, and
ignores which of ``ProxyJump`` and ``ProxyCommand`` came first (ssh takes the
first). Each hop's endpoint is still Fabric's lookup of that hop: a key, a user
and a port per hop, as each hop's config says. Each route has a Fabric config of
its own (over one shared parse of the SSH config): Fabric writes into a config
while creating a ``Connection``, which is not safe across the threads of a
fan-out. Every ``Connection`` is created with its own ``connect_kwargs`` and
``forward_agent=False``: Fabric otherwise writes one hop's ``IdentityFile`` into
the config (the next hop would inherit it) and fails on ``ForwardAgent Yes``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fabric
import paramiko

from perflab.errors import HostError, InputError
from perflab.transport.hostkeys import host_entry
from perflab.transport.ssh_config import NO_CONFIG, SSHConfigFiles, parse_time
from perflab.transport.ssh_connect import (
    Connection,
    ExitAwareTransport,
    KeysThenPassword,
    PinnedHostKeys,
    Target,
    close_chain,
    new_transport,
    open_socket,
)
from perflab.transport.ssh_keys import Hop, client_keys, jump_specs, load_key

if TYPE_CHECKING:
    from collections.abc import Sequence

    from perflab.transport.credentials import Credentials

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_KEEPALIVE = 15
MAX_HOPS = 8
_TOKEN = re.compile(r"%[%hpnr]")


@dataclass(frozen=True)
class Wanted:
    """What the caller says about reaching a runner; None: the SSH config, else ssh's default."""

    address: str
    port: int | None = None
    user: str | None = None
    key_file: Path | None = None
    proxy_jump: str | None = None
    proxy_command: str | None = None
    connect_timeout: float | None = None
    keepalive: int | None = None


@dataclass(frozen=True)
class Login:
    """Who perflab is on every hop: the runner's key (and secrets, as references) and the
    files of trusted host keys."""

    runner: str
    key_file: Path | None
    known_hosts: Sequence[Path]
    credentials: Credentials


@dataclass
class Route:
    """A runner's endpoint as resolved, and its (unopened) chain of Fabric connections."""

    runner: str
    target: fabric.Connection
    connect_timeout: float
    keepalive: int

    @property
    def hop(self) -> Hop:
        return _hop(self.target)

    def chain(self) -> list[fabric.Connection]:
        """Every connection from the first hop to the runner."""
        found = [self.target]
        while isinstance(found[0].gateway, fabric.Connection):
            found.insert(0, found[0].gateway)
        return found

    @property
    def proxy_command(self) -> str | None:
        first = self.chain()[0].gateway
        return first if isinstance(first, str) else None


def _hop(conn: fabric.Connection) -> Hop:
    return Hop(conn.host, int(conn.port), conn.user)


# -- resolving -------------------------------------------------------------------------


def _fabric_config(files: SSHConfigFiles) -> fabric.Config:
    """A Fabric config of its own for one route, over the shared parse of the SSH config
    (no Fabric or Invoke files are read). Not shared between routes: Fabric writes into a
    Connection's config while creating it (``inline_ssh_env``), and Invoke then rebuilds
    that config from scratch, which another thread reading it would see half done."""
    return fabric.Config(ssh_config=files.parsed, lazy=True)


def _connection(
    config: fabric.Config, address: str, user: str | None, port: int | None
) -> fabric.Connection:
    return fabric.Connection(
        address,
        user=user or None,
        port=port,
        gateway=False,
        forward_agent=False,
        config=config,
        connect_kwargs={"allow_agent": False, "look_for_keys": False},
    )


def plan_route(runner: str, wanted: Wanted, ssh_config: SSHConfigFiles = NO_CONFIG) -> Route:
    """Resolve the runner's endpoint and gateways (nothing is opened)."""
    config = _fabric_config(ssh_config)
    target = _connection(config, wanted.address, wanted.user, wanted.port)
    options = target.ssh_config
    timeout = wanted.connect_timeout
    if timeout is None:
        timeout = float(_seconds(options.get("connecttimeout"), DEFAULT_CONNECT_TIMEOUT))
    keepalive = wanted.keepalive
    if keepalive is None:
        keepalive = int(_seconds(options.get("serveraliveinterval"), DEFAULT_KEEPALIVE))
    target.gateway = _gateway(
        runner, config, target, wanted.proxy_jump, wanted.proxy_command, [_hop(target)]
    )
    return Route(runner, target, timeout, keepalive)


def _seconds(value: str | None, default: float) -> float:
    if value is None:
        return default
    seconds = parse_time(value)
    return 0 if seconds is None else seconds  # "none": off


def _proxies(options: dict[str, Any]) -> tuple[str | None, str | None]:
    """(ProxyJump, ProxyCommand) from a lookup: whichever came first wins, as in ssh."""
    for key, value in options.items():
        if key in ("proxyjump", "proxycommand"):
            value = None if value is None or value.lower() == "none" else value
            return (value, None) if key == "proxyjump" else (None, value)
    return None, None


def _gateway(
    runner: str,
    config: fabric.Config,
    conn: fabric.Connection,
    jump: str | None,
    command: str | None,
    path: list[Hop],
) -> fabric.Connection | str | None:
    """What ``conn`` is reached through: a chain of jump connections, a ProxyCommand, or
    nothing. Without ``jump`` and ``command`` the hop's own config says; a config whose
    jump host is the host itself (``Host *`` with ``ProxyJump bastion``, looked up for
    bastion) reaches it directly, as Fabric does."""
    from_config = jump is None and command is None
    if from_config:
        jump, command = _proxies(conn.ssh_config)
    if command:
        return "/bin/sh -c " + shlex.quote("exec " + expand_tokens(command, conn))
    if not jump:
        return None
    previous: fabric.Connection | None = None
    for user, host, port in jump_specs(jump):
        hop = _connection(config, host, user, port)
        here = _hop(hop)
        if from_config and previous is None and here == path[-1]:
            return None
        if here in path or len(path) >= MAX_HOPS:
            chain = " -> ".join(str(h) for h in [*path, here])
            raise InputError(
                f"runner {runner}: ProxyJump loop or chain too long: {chain}", field="ProxyJump"
            )
        hop.gateway = (
            previous
            if previous is not None
            else _gateway(runner, config, hop, None, None, [*path, here])
        )
        previous = hop
    return previous


def expand_tokens(command: str, conn: fabric.Connection) -> str:
    """ProxyCommand's tokens with the endpoint that finally applies: %h %p %r %n %%."""
    values = {
        "%%": "%",
        "%h": conn.host,
        "%p": str(conn.port),
        "%r": conn.user,
        "%n": conn.original_host,
    }
    return _TOKEN.sub(lambda m: values[m.group(0)], command)


# -- opening ----------------------------------------------------------------------------


def _keys(login: Login, conn: fabric.Connection, role: str) -> list[tuple[str, paramiko.PKey]]:
    """Keys to offer on a hop: the runner's key first, then the hop's IdentityFiles (files
    that do not exist are skipped, as ssh does); a jump host offers its own IdentityFiles
    first. Without any: ssh-agent and ~/.ssh/id_*."""
    configured = [Path(p) for p in conn.ssh_config.get("identityfile", [])]
    configured = [p for p in configured if p.exists()]
    given = [login.key_file] if login.key_file is not None else []
    files = [*given, *configured] if role == "host" else [*configured, *given]
    passphrase = login.credentials.key_passphrase
    if not files:
        return client_keys(login.runner, None, passphrase)
    return [(str(p), load_key(login.runner, p, passphrase)) for p in dict.fromkeys(files)]


def _prepare(route: Route, login: Login, chain: Sequence[fabric.Connection]) -> None:
    """perflab's policy, transport, login and first socket on each connection, before open()."""
    for conn in chain:
        role = "host" if conn is route.target else "jump host"
        target = Target(
            route.runner,
            _hop(conn),
            _keys(login, conn, role),
            login.known_hosts,
            route.connect_timeout,
            route.keepalive,
            role=role,
            password=login.credentials.ssh_password if role == "host" else None,
        )
        conn.client.set_missing_host_key_policy(PinnedHostKeys(target))
        conn.connect_timeout = route.connect_timeout
        conn.connect_kwargs.pop("sock", None)
        conn.connect_kwargs.update(
            transport_factory=partial(new_transport, target),
            auth_strategy=KeysThenPassword(target),
            channel_timeout=route.connect_timeout,
            banner_timeout=route.connect_timeout,
        )
    first = chain[0]
    if not first.gateway:
        first.connect_kwargs["sock"] = open_socket(
            route.runner, first.host, int(first.port), route.connect_timeout, route.keepalive
        )


def open_route(route: Route, login: Login) -> Connection:
    """Open the chain (jump hosts, then the runner), each hop verified and logged in to."""
    chain = route.chain()
    _prepare(route, login, chain)
    try:
        route.target.open()
    except BaseException as exc:
        close_chain(chain)
        raise _failure(route, chain, exc) from None
    transport = route.target.transport
    assert isinstance(transport, ExitAwareTransport)
    return Connection(transport, chain)


def open_gateway(route: Route, login: Login) -> tuple[list[fabric.Connection], Any]:
    """The gateways (opened) and a socket-like object to the runner through them, for a
    host key scan; ([], a plain socket) without gateways."""
    if not route.target.gateway:
        return [], open_socket(
            route.runner, route.hop.host, route.hop.port, route.connect_timeout, 0
        )
    chain = route.chain()
    gateways = chain[:-1]
    if gateways:
        _prepare(route, login, gateways)
    try:
        return gateways, route.target.open_gateway()
    except BaseException as exc:
        close_chain(gateways)
        raise _failure(route, chain, exc) from None


def _failure(route: Route, chain: Sequence[fabric.Connection], exc: BaseException) -> Any:
    """The error to raise for ``exc``, naming the hop where opening stopped."""
    if isinstance(exc, HostError | InputError) or not isinstance(
        exc, paramiko.SSHException | EOFError | OSError
    ):
        return exc
    index = next((i for i, c in enumerate(chain) if not c.is_connected), len(chain) - 1)
    where, role = _hop(chain[index]), "host" if index == len(chain) - 1 else "jump host"
    address = host_entry(where.host, where.port)
    if isinstance(exc, paramiko.ChannelException) and index > 0:
        return HostError(
            route.runner, f"jump host {_hop(chain[index - 1])} cannot reach {address}: {exc.text}"
        )
    if isinstance(exc, paramiko.ProxyCommandFailure) or (
        index == 0 and isinstance(chain[0].gateway, str)
    ):
        return HostError(
            route.runner, f"ProxyCommand for {role} {address} failed: {exc or type(exc).__name__}"
        )
    return HostError(
        route.runner, f"SSH handshake with {role} {address} failed: {exc or type(exc).__name__}"
    )
