"""Fixtures for transport tests: the SSH fleet, pinned known_hosts, transports that close."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perflab.transport.ssh import SSHTransport
from tests.fleet import FleetHost


@pytest.fixture(autouse=True)
def _root_only(request: pytest.FixtureRequest) -> None:
    """Tests marked ``root`` skip when not run as root."""
    if request.node.get_closest_marker("root") and os.geteuid() != 0:
        pytest.skip("needs root")


SSHFactory = Callable[..., SSHTransport]


@pytest.fixture
def ssh(tmp_path: Path) -> Iterator[SSHFactory]:
    """``ssh(host, **options)``: an SSHTransport to a fleet host, its key pinned, closed after."""
    made: list[SSHTransport] = []

    def make(host: FleetHost, *, known_hosts: Path | None = None, **options: Any) -> SSHTransport:
        if known_hosts is None:
            known_hosts = tmp_path / f"known_hosts-{len(made)}"
            hosts = [host, *([host.via] if host.via else [])]
            known_hosts.write_text("".join(h.known_hosts_line() + "\n" for h in hosts))
        options.setdefault("user", host.user)
        options.setdefault("key_file", host.key_file)
        options.setdefault("proxy_jump", host.proxy_jump())
        options.setdefault("user_known_hosts_file", None)
        transport = SSHTransport(
            options.pop("name", host.name),
            host.address,
            port=host.port,
            known_hosts=known_hosts,
            **options,
        )
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()
