"""A database server that never answers: a clear error after the connect timeout, no hang."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.limits import DB_CONNECT_TIMEOUT_S
from tests.cli.capped import run_capped


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


class TestSilentServer:
    def test_postgresql_times_out(self, silent_server: int, tmp_path: Path) -> None:
        """PERFLAB_DB_URL at a server that accepts and never replies: exit 3 naming the
        timeout, after about DB_CONNECT_TIMEOUT_S (it used to hang forever)."""
        url = f"postgresql+psycopg://perflab@127.0.0.1:{silent_server}/db"
        child = run_capped(
            "results",
            "list",
            home=tmp_path / "home",
            timeout=DB_CONNECT_TIMEOUT_S * 4,
            env={"PERFLAB_DB_URL": url},
        )
        assert child.status == 3, child.err
        assert f"no answer within {DB_CONNECT_TIMEOUT_S} s" in child.err, child.err
        assert child.err.count("\n") <= 2  # the error line and its hint

    def test_a_timeout_in_the_url_wins(self, silent_server: int, tmp_path: Path) -> None:
        """?connect_timeout=N in the URL is the user's choice and is kept."""
        url = f"postgresql+psycopg://perflab@127.0.0.1:{silent_server}/db?connect_timeout=2"
        child = run_capped(
            "results",
            "list",
            home=tmp_path / "home",
            timeout=DB_CONNECT_TIMEOUT_S * 4,
            env={"PERFLAB_DB_URL": url},
        )
        assert child.status == 3 and "no answer within 2 s" in child.err, child.err
