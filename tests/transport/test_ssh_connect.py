"""Connecting: host key verification, authentication, unreachable hosts, ProxyJump."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from perflab.errors import ExitStatus, HostError, InputError
from perflab.transport.hostkeys import known_host_key, pin_host_key
from tests.fleet import Fleet

pytestmark = pytest.mark.root


class TestHostKeyVerification:
    def test_unknown_host_key_refused_with_fingerprint(
        self, fleet: Fleet, ssh, tmp_path: Path
    ) -> None:
        """A host absent from known_hosts is refused; the error shows its fingerprint."""
        host = fleet.host("conn")
        empty = tmp_path / "known_hosts"
        t = ssh(host, known_hosts=empty, name="lab1")
        with pytest.raises(HostError) as caught:
            t.run(["true"])
        message = str(caught.value)
        assert message.startswith("lab1: ")
        assert "is not known" in message
        assert host.host_key_fingerprint in message
        assert "--accept-new-host-key" in (caught.value.hint or "")
        assert not empty.exists()  # nothing was pinned behind the user's back

    def test_scan_then_pin_then_connect(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """`runner add` flow: scan shows the fingerprint, pinning it lets the connection in."""
        host = fleet.host("conn")
        known = tmp_path / "perflab-home" / "known_hosts"
        t = ssh(host, known_hosts=known)
        key = t.scan_host_key()
        assert key.fingerprint == host.host_key_fingerprint
        assert pin_host_key(known, host.address, host.port, key)
        assert known.stat().st_mode & 0o777 == 0o600
        assert known_host_key(known, host.address, host.port) == key
        assert t.run(["true"]).ok

    def test_trust_host_key_flow(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """SSHTransport.trust_host_key: refused, then pinned with accept_new, then known."""
        host = fleet.host("conn")
        known = tmp_path / "known_hosts"
        t = ssh(host, known_hosts=known)
        with pytest.raises(HostError, match=re.escape(host.host_key_fingerprint)):
            t.trust_host_key()
        key, state = t.trust_host_key(accept_new=True)
        assert (key.fingerprint, state) == (host.host_key_fingerprint, "pinned")
        assert t.trust_host_key()[1] == "known"
        assert t.run(["true"]).ok

    def test_changed_host_key_refused(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """A host whose key changed (MITM or reinstall) is refused, old and new shown."""
        host = fleet.host("rekeyed")
        known = fleet.write_known_hosts(tmp_path / "known_hosts", [host])
        old = host.host_key_fingerprint
        host.restart_sshd(new_host_key=True)
        t = ssh(host, known_hosts=known, name="lab2")
        with pytest.raises(HostError) as caught:
            t.run(["true"])
        message = str(caught.value)
        assert "CHANGED" in message and "man in the middle" in message
        assert old in message and host.host_key_fingerprint in message
        assert f"{known}:1" in message


class TestAuthentication:
    def test_wrong_key_refused(self, fleet: Fleet, ssh) -> None:
        """A key the host does not authorize: HostError naming the user and the key."""
        host = fleet.host("conn")
        t = ssh(host, key_file=fleet.wrong_key.path, name="lab3")
        with pytest.raises(HostError) as caught:
            t.run(["true"])
        message = str(caught.value)
        assert "authentication as 'root'" in message
        assert str(fleet.wrong_key.path) in message

    def test_missing_key_file_is_input_error(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """A key file that does not exist is bad input (exit 3), found before connecting."""
        t = ssh(fleet.host("conn"), key_file=tmp_path / "nope", name="lab4")
        with pytest.raises(InputError, match=r"lab4.*does not exist") as caught:
            t.run(["true"])
        assert caught.value.exit_status == ExitStatus.INVALID_INPUT

    def test_loose_key_permissions_are_input_error(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """A private key readable by others is refused, with the chmod to fix it."""
        loose = tmp_path / "key"
        loose.write_bytes(fleet.client_key.path.read_bytes())
        loose.chmod(0o644)
        t = ssh(fleet.host("conn"), key_file=loose, name="lab5")
        with pytest.raises(InputError, match="mode 0644") as caught:
            t.run(["true"])
        assert f"chmod 600 {loose}" in (caught.value.hint or "")


class TestUnreachable:
    def test_nothing_listening(self, fleet: Fleet, ssh) -> None:
        """A host without sshd: connection refused, address named."""
        host = fleet.host("nosshd")
        host.stop_sshd()
        with pytest.raises(HostError, match=rf"{host.address}.*connection refused"):
            ssh(host, name="lab6").run(["true"])

    def test_no_host_answers(self, fleet: Fleet, ssh) -> None:
        """An address where nothing answers fails within the connect timeout, naming it."""
        host = fleet.host("gone")
        host.link_down()
        with pytest.raises(HostError, match=rf"lab7: cannot connect to {host.address}"):
            ssh(host, name="lab7", connect_timeout=1.0).run(["true"])

    @pytest.mark.timeout(60)
    def test_link_down_mid_command(self, fleet: Fleet, ssh) -> None:
        """The link dying under a running command ends in HostError (keepalive), not a hang."""
        host = fleet.host("linkdown")
        t = ssh(host, keepalive=1, name="lab8")
        assert t.run(["true"]).ok
        cut = threading.Timer(0.5, host.link_down)
        cut.start()
        try:
            with pytest.raises(HostError, match="lab8: connection lost while running `sleep 30`"):
                t.run(["sleep", "30"])
        finally:
            cut.join()
            host.link_up()
        assert t.run(["true"]).ok  # the next command connects again
        assert t.connections_opened == 2


class TestProxyJump:
    def test_host_reachable_only_through_jump(self, fleet: Fleet, ssh) -> None:
        """Host B, only linked to host A's namespace, is reached with ProxyJump via A."""
        inner = fleet.host("inner", behind="jump")
        assert inner.via is not None
        t = ssh(inner)
        seen = t.run("echo $SSH_CONNECTION").text().split()
        assert seen[0] == inner.gateway  # the connection comes from A's side of the A-B link
        assert seen[2] == inner.address

    def test_jump_host_key_checked_too(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """The jump host's key must be pinned like any other."""
        inner = fleet.host("inner", behind="jump")
        known = fleet.write_known_hosts(tmp_path / "known_hosts", [inner])
        with pytest.raises(HostError, match=r"jump host .* is not known"):
            ssh(inner, known_hosts=known).run(["true"])

    def test_scan_through_jump(self, fleet: Fleet, ssh) -> None:
        """runner add can see an inner host's key through the jump host."""
        inner = fleet.host("inner", behind="jump")
        assert ssh(inner).scan_host_key().fingerprint == inner.host_key_fingerprint
