"""The TCP socket under every SSH connection (no fleet needed: a listener on loopback)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from perflab.transport.ssh_connect import open_socket


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server
    server.close()


@pytest.mark.parametrize("keepalive", [0, 5])
def test_no_nagle_delay(listener: socket.socket, keepalive: int) -> None:
    """TCP_NODELAY is on, so a small SSH message never waits for the peer's delayed ACK."""
    port = listener.getsockname()[1]
    sock = open_socket("box", "127.0.0.1", port, 5.0, keepalive)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)) == (keepalive > 0)
    finally:
        sock.close()
