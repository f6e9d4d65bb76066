"""The SSH test fleet itself: parallel builds, and a teardown that leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from perflab.transport.ssh import SSHTransport
from tests.fleet import Fleet, FleetHost
from tests.fleet.host import process_identity
from tests.fleet.netns import links, namespaces

pytestmark = pytest.mark.root


def connect(host: FleetHost, known_hosts: Path) -> SSHTransport:
    return SSHTransport(
        host.name,
        host.address,
        user=host.user,
        key_file=host.key_file,
        known_hosts=known_hosts,
        proxy_jump=host.proxy_jump(),
        user_known_hosts_file=None,
    )


class TestFleetBuild:
    def test_parallel_hosts_are_distinct_and_answer(self, fleet: Fleet, tmp_path: Path) -> None:
        """Hosts built in parallel get their own namespace, address and host key, and answer."""
        hosts = fleet.hosts(12, prefix="par")
        assert len({h.address for h in hosts}) == len({h.netns for h in hosts}) == 12
        assert len({h.host_key for h in hosts}) == 12
        known = fleet.write_known_hosts(tmp_path / "known_hosts", hosts)

        def ask(host: FleetHost) -> str:
            with connect(host, known) as t:
                return t.check("echo $SSH_CONNECTION").text().split()[2]

        with ThreadPoolExecutor(max_workers=12) as pool:
            assert list(pool.map(ask, hosts)) == [h.address for h in hosts]

    def test_same_name_built_once(self, fleet: Fleet) -> None:
        """Asking for one name from many threads at once builds one host."""
        with ThreadPoolExecutor(max_workers=6) as pool:
            got = list(pool.map(lambda _: fleet.host("once"), range(6)))
        assert len({id(h) for h in got}) == 1


class TestFleetTeardown:
    def test_close_leaves_nothing(self, fleet: Fleet, tmp_path: Path) -> None:
        """After close: no namespace, link, claim, directory or process of the fleet is left.

        A process started over SSH that detached itself (setsid, nohup) is killed
        too, because it lives in the fleet's namespace.
        """
        fleet.host("anchor")  # the session fleet exists and is untouched by this one
        own = Fleet()
        try:
            plain, behind = own.host("a"), own.host("b", behind="a")
            known = own.write_known_hosts(tmp_path / "known_hosts")
            with connect(behind, known) as t:
                detached = int(t.check("setsid nohup sleep 300 >/dev/null 2>&1 & echo $!").text())
            identity = process_identity(detached)
            assert identity is not None
            assert plain.netns in namespaces() and plain.outer_link in links()
        finally:
            own.close()
        assert own.leftovers() == []
        assert process_identity(detached) != identity
        assert not any(n.startswith(own.prefix + "-") for n in namespaces())
        assert fleet.host("anchor").netns in namespaces()

    def test_dead_session_swept(self, tmp_path: Path) -> None:
        """What a killed session left (namespace, sshd, link) is removed by the next fleet."""
        repo = Path(__file__).resolve().parents[2]
        script = (
            "from tests.fleet import Fleet; f = Fleet(); h = f.host('x'); "
            "print(f.token, h.netns, h.sshd_pid, flush=True); import time; time.sleep(300)"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script], cwd=repo, text=True, stdout=subprocess.PIPE
        )
        try:
            assert child.stdout is not None
            token, dead_netns, sshd_pid = child.stdout.readline().split()
        finally:
            child.kill()
            child.wait()
        sshd = process_identity(int(sshd_pid))
        assert dead_netns in namespaces() and sshd is not None
        with Fleet() as own:
            own.host("sweeper")
            assert dead_netns not in namespaces()
            assert not any(link.startswith(f"perflab{token}") for link in links())
            assert process_identity(int(sshd_pid)) != sshd
