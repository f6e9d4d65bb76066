"""Registering runners: add one (pinning its host key), import an inventory, facts, ping."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab.errors import HostError, InputError
from perflab.runners import LOCAL, is_local, open_runner, ssh_transport
from perflab.runners.ssh_args import proxy_jump
from perflab.secret_vars import advice, is_secret, scrub

if TYPE_CHECKING:
    from perflab.inventory import Host
    from perflab.store import Store

MIN_PYTHON = (3, 8)


def _check_key_file(name: str, key_file: str | None) -> None:
    if not key_file:
        return
    path = Path(key_file).expanduser()
    if not path.is_file():
        raise InputError(f"runner {name}: key file {key_file} does not exist", field="--key")
    if path.stat().st_mode & 0o077:
        raise InputError(
            f"runner {name}: key file {key_file} is readable by others "
            f"(mode {path.stat().st_mode & 0o777:o})",
            field="--key",
            hint=f"chmod 600 {key_file}",
        )


def _python_version(transport: Any) -> tuple[int, int]:
    python = transport.python
    result = transport.run(
        transport.helper_argv("import sys; print(sys.version_info[0], sys.version_info[1])"),
        timeout=30,
    )
    if not result.ok:
        if result.timed_out:
            why = (
                f"`{python} -c ...` did not finish within {result.duration_s:.0f} s "
                "(a slow login shell? the runner's shell rc files run for every command)"
            )
        elif result.exit_status == 127:
            why = (
                f"{python} was not found (on the login shell's PATH, or set "
                "ansible_python_interpreter)"
            )
        else:
            tail = result.stderr_tail(5).strip()
            why = f"`{python} -c ...` exited with status {result.exit_status}" + (
                f": {tail}" if tail else ""
            )
        raise HostError(
            transport.name,
            f"cannot run Python on the runner: {why} "
            "(perflab's host-side helpers need Python >= 3.8)",
        )
    major, minor = (int(x) for x in result.text().split()[:2])
    return major, minor


def add_runner(
    store: Store, name: str, *, accept_new: bool = False, **values: Any
) -> dict[str, Any]:
    """Connect once to pin the host key (only with ``accept_new`` when unknown), then register.

    Without an address the name is the address: an SSH config ``Host`` alias says the rest
    (``HostName``, ``User``, ``Port``, ``IdentityFile``, ``ProxyJump`` ...); what is given
    here wins over the config."""
    if name == LOCAL or store.runners.exists(name):
        raise InputError(
            f'a runner named "{name}" is already registered',
            field="NAME",
            hint=f"`perflab runner remove {name}` first, or pick another name",
        )
    _check_key_file(name, values.get("key_file"))
    _check_vars(values.get("vars") or {})
    given = values.get("vars") or {}
    # the platform: --platform, else the perflab_platform variable (as in an inventory)
    row = {
        **values,
        "address": values.get("address") or name,
        "platform": values.get("platform") or given.get("perflab_platform") or None,
    }
    if is_local(values.get("vars") or {}):  # this machine: no SSH, no host key
        store.runners.add(name, source="cli", **row)
        return {**store.runners.get(name), "host_key_state": "local", "endpoint": "local"}
    transport = ssh_transport(name, row)
    with transport:
        key, how = transport.trust_host_key(accept_new=accept_new)
        version = _python_version(transport)
    if version < MIN_PYTHON:
        raise HostError(
            name,
            f"{transport.python} on the runner is {version[0]}.{version[1]}; "
            "perflab needs 3.8 or newer there",
        )
    store.runners.add(name, host_key=f"{key.key_type} {key.fingerprint}", source="cli", **row)
    return {**store.runners.get(name), "host_key_state": how, "endpoint": transport.address}


def _check_vars(variables: dict[str, Any]) -> None:
    """``--var`` values: a secret is refused (saying how to pass it), others checked as
    an inventory's are."""
    from perflab.inventory.variables import check_variable

    for name, value in variables.items():
        if is_secret(name, value):
            raise InputError(
                f"{name} is a secret, and perflab never stores one: {advice(name, value)}",
                field="--var",
            )
        problem = check_variable(name, value)
        if problem:
            raise InputError(problem, field="--var")


def runner_from_host(host: Host, source: str) -> dict[str, Any]:
    """The runner row an inventory host makes: its secrets are left out."""
    kept, _ = scrub(host.vars)
    perflab_vars = host.perflab_vars()
    labels = dict(item.partition("=")[::2] for item in perflab_vars.get("labels") or [])
    return {
        "name": host.name,
        "address": host.address,
        "port": host.given_port,
        "user": host.user,
        "key_file": str(host.key_file) if host.key_file else None,
        "proxy_jump": proxy_jump(kept),
        "groups": sorted(host.groups),
        "labels": labels,
        "vars": kept,
        "platform": perflab_vars.get("platform"),
        "source": source,
    }


def import_inventory(store: Store, path: Path) -> dict[str, list[str]]:
    """Register every host of an Ansible inventory, without connecting: all or nothing."""
    from perflab.inventory import load_inventory

    inventory = load_inventory(path)
    runners = [runner_from_host(h, str(path)) for h in inventory.hosts.values()]
    added, updated = store.runners.upsert_many(runners)
    return {
        "added": added,
        "updated": updated,
        "notes": secret_notes(inventory.hosts.values(), str(path)),
    }


def secret_notes(hosts: Iterable[Host], source: str) -> list[str]:
    """One line per secret an import left out, naming it and where it is written (once,
    however many hosts it applies to)."""
    notes: dict[str, None] = {}
    for host in hosts:
        for path in scrub(host.vars)[1]:
            top = re.split(r"[.\[]", path, maxsplit=1)[0]
            where = host.origins.get(top) or source
            why = advice(path, host.vars.get(top) if top == path else None)
            notes[f"{where}: {path} is a secret and was not stored; {why}"] = None
    return list(notes)


def gather_facts(store: Store, name: str) -> dict[str, Any]:
    from perflab.facts.platform import platform_request

    host = open_runner(name, store)
    with host.transport:
        answer = host.transport.call_hostside("probe", platform_request())
    return save_facts(store, name, answer)


def save_facts(store: Store, name: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Platform facts from a probe answer (of at least platform_request's files), stored."""
    from perflab.facts.platform import parse_platform

    facts = parse_platform(answer)
    if name != LOCAL:
        store.runners.set_facts(name, facts, platform=facts["platform"])
    return facts


def ping(store: Store, name: str) -> dict[str, Any]:
    """Connect and run `true`; a failure quarantines the runner with the reason."""
    start = time.monotonic()
    try:
        host = open_runner(name, store)
        with host.transport:
            host.transport.check(["true"], timeout=30)
    except HostError as exc:
        if name != LOCAL:
            store.runners.set_state(name, "quarantined", f"ping failed: {exc}")
        raise
    return {"runner": name, "seconds": round(time.monotonic() - start, 3)}
