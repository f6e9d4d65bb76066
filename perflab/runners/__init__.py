"""Runners: find one by name, connect to it, fan work out over many.

``local`` (this machine, no SSH) always exists. Registered SSH runners live in
the store (``perflab runner add`` / ``runner import``); opening one builds an
SSH transport that verifies the pinned host key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError
from perflab.prepare.host import RunnerHost

if TYPE_CHECKING:
    from perflab.store import Store

LOCAL = "local"
#: Ansible's interpreter discovery modes: perflab looks for ``python3`` on the PATH then
_DISCOVERY = ("auto", "auto_silent", "auto_legacy", "auto_legacy_silent")


def python_interpreter(variables: dict[str, Any]) -> str | None:
    """The runner's Python from ``ansible_python_interpreter`` (None: ``python3``)."""
    value = str(variables.get("ansible_python_interpreter") or "").strip()
    return None if not value or value in _DISCOVERY else value


def ssh_transport(name: str, row: dict[str, Any]) -> Any:
    """The runner's SSH transport: its address looked up in the SSH config (``perflab -F``,
    ``$PERFLAB_SSH_CONFIG``, else ``~/.ssh/config``), what the runner's row and variables
    say winning over it; secrets come from the environment variables its
    ``perflab_*_env`` variables name, read when needed
    (:mod:`perflab.transport.credentials`)."""
    from perflab import config
    from perflab.runners.ssh_args import proxy_command
    from perflab.transport.become import Become
    from perflab.transport.credentials import Credentials
    from perflab.transport.hostkeys import perflab_known_hosts
    from perflab.transport.ssh import SSHTransport
    from perflab.transport.ssh_config import load_ssh_config

    key = row.get("key_file")
    variables = row.get("vars") or {}
    timeout, keepalive = (variables.get(f"perflab_{n}") for n in ("connect_timeout", "keepalive"))
    return SSHTransport(
        name,
        row["address"],
        port=row.get("port"),
        user=row.get("user"),
        key_file=Path(key).expanduser() if key else None,
        known_hosts=perflab_known_hosts(),
        proxy_jump=row.get("proxy_jump"),
        proxy_command=proxy_command(variables),
        connect_timeout=None if timeout is None else float(timeout),
        keepalive=None if keepalive is None else int(keepalive),
        python=python_interpreter(variables),
        credentials=Credentials.from_vars(variables),
        ssh_config=load_ssh_config(config.ssh_config_file()),
        become=Become.from_vars(variables),
    )


def is_local(variables: dict[str, Any]) -> bool:
    """``ansible_connection: local``: the runner is this machine, driven without SSH."""
    return variables.get("ansible_connection") == "local"


def transport_for(name: str, row: dict[str, Any]) -> Any:
    """The runner's transport: SSH, or this machine for ``ansible_connection: local``."""
    variables = row.get("vars") or {}
    if is_local(variables):
        from perflab.transport.become import Become
        from perflab.transport.local import LocalTransport

        return LocalTransport(name, become=Become.from_vars(variables))
    return ssh_transport(name, row)


def runner_host(name: str, row: dict[str, Any]) -> RunnerHost:
    return RunnerHost(
        name,
        transport_for(name, row),
        dict(row.get("vars") or {}),
        platform=row.get("platform") or None,
    )


def open_runner(name: str, store: Store | None = None, *, for_run: bool = False) -> RunnerHost:
    """The runner called ``name``; ``for_run`` refuses quarantined and offline runners."""
    if name == LOCAL:
        from perflab.transport.local import LocalTransport

        return RunnerHost(LOCAL, LocalTransport(), {})
    if store is None:
        from perflab.store import open_store

        store = open_store()
    row = store.runners.get(name)
    if for_run and row["state"] in ("quarantined", "offline"):
        raise InputError(
            f'runner "{name}" is {row["state"]}: {row["state_reason"] or "-"}',
            hint=f"`perflab runner release {name}` once it is healthy",
        )
    return runner_host(name, row)


def select_runners(
    store: Store, names: tuple[str, ...] = (), *, group: str | None = None, every: bool = False
) -> list[str]:
    """Runner names from explicit names, a group, or all registered ones."""
    chosen = list(names)
    if group:
        members = [r["name"] for r in store.runners.list(group=group)]
        if not members:
            raise InputError(f'no runner in group "{group}"', field="--group")
        chosen += members
    if every:
        chosen += [r["name"] for r in store.runners.list()]
    if not chosen:
        raise InputError("name a runner, or use --group G or --all")
    return list(dict.fromkeys(chosen))
