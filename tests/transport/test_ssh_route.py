"""Reaching runners the way ~/.ssh/config says: aliases, ports, users, keys, ProxyJump with
a key per hop, ProxyCommand, ConnectTimeout and ServerAliveInterval, against real sshd hosts.

Every test writes the SSH config it uses (never this machine's ~/.ssh/config)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from perflab.errors import HostError, InputError
from perflab.transport.ssh import SSHTransport
from perflab.transport.ssh_config import SSHConfigFiles, parse_files
from perflab.transport.ssh_route import Wanted, plan_route
from tests.fleet import Fleet, FleetHost
from tests.fleet.keys import generate


def config(tmp_path: Path, text: str) -> SSHConfigFiles:
    path = tmp_path / "ssh_config"
    path.write_text(text)
    return parse_files([path])


@pytest.fixture
def transports():
    made: list[SSHTransport] = []

    def make(
        address: str,
        ssh_config: SSHConfigFiles,
        known: list[FleetHost],
        tmp_path: Path,
        **options: object,
    ) -> SSHTransport:
        known_hosts = tmp_path / f"known_hosts-{len(made)}"
        known_hosts.write_text("".join(h.known_hosts_line() + "\n" for h in known))
        t = SSHTransport(
            str(options.pop("name", "lab")),
            address,
            known_hosts=known_hosts,
            user_known_hosts_file=None,
            ssh_config=ssh_config,
            **options,
        )  # type: ignore[arg-type]
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def connection_seen(t: SSHTransport) -> list[str]:
    """$SSH_CONNECTION on the host: client address and port, server address and port."""
    return t.run("echo $SSH_CONNECTION").text().split()


@pytest.mark.root
class TestConfigOnRealHosts:
    def test_alias_hostname_port_user_identityfile(
        self, fleet: Fleet, transports, tmp_path: Path
    ) -> None:
        """A Host alias alone reaches the host its config describes: HostName, Port, User
        and IdentityFile come from the config."""
        host = fleet.host("cfg-port", port=2222)
        cfg = config(
            tmp_path,
            f"Host lab-port\n  HostName {host.address}\n  Port 2222\n"
            f"  User root\n  IdentityFile {host.key_file}\n",
        )
        t = transports("lab-port", cfg, [host], tmp_path)
        assert (t.host, t.port, t.user) == (host.address, 2222, "root")
        seen = connection_seen(t)
        assert seen[2:] == [host.address, "2222"]

    def test_given_values_win_over_the_config(
        self, fleet: Fleet, transports, tmp_path: Path
    ) -> None:
        """Port, user and key given by the caller (an inventory) win over the config's, as
        ssh's command-line options win for Ansible; without them the config applies."""
        host = fleet.host("cfg-win")
        cfg = config(
            tmp_path,
            f"Host lab-win\n  HostName {host.address}\n  Port 2\n"
            f"  User nobody\n  IdentityFile {fleet.wrong_key.path}\n",
        )
        with pytest.raises(HostError, match=rf"{host.address}\]:2: connection refused"):
            transports("lab-win", cfg, [host], tmp_path).run(["true"])
        t = transports(
            "lab-win", cfg, [host], tmp_path, port=22, user="root", key_file=host.key_file
        )
        assert connection_seen(t)[2:] == [host.address, "22"]
        assert t.run(["id", "-un"]).text() == "root\n"

    def test_proxyjump_with_a_key_per_hop(self, fleet: Fleet, transports, tmp_path: Path) -> None:
        """ProxyJump from the config; each hop logs in with the IdentityFile its own config
        block names (the jump host accepts only its key, the runner only its own)."""
        jump_key = generate(tmp_path / "jump_key", "perflab-test-jump")
        (tmp_path / "jump_authorized").write_text(jump_key.public + "\n")
        jump = fleet.host(
            "cfg-jump", sshd_config=f"AuthorizedKeysFile {tmp_path}/jump_authorized\n"
        )
        inner = fleet.host("cfg-inner", behind="cfg-jump")
        cfg = config(
            tmp_path,
            f"""\
Host bastion
  HostName {jump.address}
  User root
  IdentityFile {jump_key.path}
Host lab-inner
  HostName {inner.address}
  User root
  IdentityFile {inner.key_file}
  ProxyJump bastion
""",
        )
        t = transports("lab-inner", cfg, [jump, inner], tmp_path)
        seen = connection_seen(t)
        assert seen[0] == inner.gateway and seen[2] == inner.address  # through the jump host
        assert t.scan_host_key().fingerprint == inner.host_key_fingerprint
        # the jump host's key must be pinned like any other
        with pytest.raises(HostError, match=r"jump host .* is not known"):
            transports("lab-inner", cfg, [inner], tmp_path).run(["true"])

    def test_proxycommand(self, fleet: Fleet, transports, tmp_path: Path) -> None:
        """ProxyCommand (with %h and %p) carries the connection to a host unreachable from
        here: OpenSSH's own `ssh -W %h:%p` through the jump host, as labs write it."""
        inner = fleet.host("cfg-pc-inner", behind="cfg-pc-jump")
        assert inner.via is not None
        client_known = tmp_path / "client_known_hosts"
        client_known.write_text(inner.via.known_hosts_line() + "\n")
        cfg = config(
            tmp_path,
            f"Host lab-pc\n  HostName {inner.address}\n  User root\n"
            f"  IdentityFile {inner.key_file}\n"
            f"  ProxyCommand ssh -F /dev/null -i {inner.key_file} -o BatchMode=yes"
            f" -o UserKnownHostsFile={client_known} -o StrictHostKeyChecking=yes"
            f" -W %h:%p root@{inner.via.address}\n",
        )
        t = transports("lab-pc", cfg, [inner], tmp_path)
        assert t.route.proxy_command is not None
        assert connection_seen(t)[2] == inner.address
        assert t.scan_host_key().fingerprint == inner.host_key_fingerprint

    def test_connect_timeout(self, fleet: Fleet, transports, tmp_path: Path) -> None:
        """ConnectTimeout bounds the connection attempt (perflab's default is 10 s)."""
        host = fleet.host("cfg-gone")
        host.link_down()
        try:
            cfg = config(
                tmp_path, f"Host lab-gone\n  HostName {host.address}\n  ConnectTimeout 1\n"
            )
            t = transports("lab-gone", cfg, [host], tmp_path, key_file=host.key_file)
            start = time.monotonic()
            with pytest.raises(HostError, match=r"no answer within 1 s"):
                t.run(["true"])
            assert time.monotonic() - start < 5
        finally:
            host.link_up()

    @pytest.mark.timeout(60)
    def test_server_alive_interval(self, fleet: Fleet, transports, tmp_path: Path) -> None:
        """ServerAliveInterval sets the keepalive: a link that dies under a command fails it
        within about three intervals (perflab's default is 15 s, so ~45 s)."""
        host = fleet.host("cfg-alive")
        cfg = config(
            tmp_path,
            f"Host lab-alive\n  HostName {host.address}\n  User root\n"
            f"  IdentityFile {host.key_file}\n  ServerAliveInterval 1\n",
        )
        t = transports("lab-alive", cfg, [host], tmp_path)
        assert t.keepalive == 1 and t.run(["true"]).ok
        cut = threading.Timer(0.5, host.link_down)
        cut.start()
        start = time.monotonic()
        try:
            with pytest.raises(HostError, match="connection lost"):
                t.run(["sleep", "30"])
            assert time.monotonic() - start < 15
        finally:
            cut.join()
            host.link_up()


class TestPlan:
    """Resolving a route from the config (nothing is opened)."""

    def test_proxycommand_tokens_take_the_final_port_and_user(self, tmp_path: Path) -> None:
        """%h, %p, %r expand to the endpoint that finally applies: a port and user given by
        the inventory, not only the config's."""
        cfg = config(tmp_path, "Host lab\n  HostName 10.0.0.7\n  ProxyCommand relay %h:%p %r %%\n")
        route = plan_route("lab", Wanted("lab", port=2200, user="perf"), cfg)
        assert route.proxy_command == "/bin/sh -c 'exec relay 10.0.0.7:2200 perf %'"

    def test_first_of_proxyjump_and_proxycommand_wins(self, tmp_path: Path) -> None:
        """As in ssh, the first of ProxyJump and ProxyCommand obtained is used; `none`
        turns them off."""
        cfg = config(
            tmp_path,
            "Host a\n  ProxyCommand relay\nHost b\n  ProxyJump none\nHost *\n  ProxyJump bastion\n",
        )
        assert plan_route("a", Wanted("a"), cfg).proxy_command == "/bin/sh -c 'exec relay'"
        assert len(plan_route("b", Wanted("b"), cfg).chain()) == 1
        chain = plan_route("c", Wanted("c"), cfg).chain()
        assert [conn.host for conn in chain] == ["bastion", "c"]  # bastion's own `*` ignored

    def test_given_jump_wins_and_hops_keep_their_config(self, tmp_path: Path) -> None:
        """A jump given by the caller wins over the config's; each hop is still looked up
        in the config (its HostName, User, Port)."""
        cfg = config(
            tmp_path,
            "Host lab\n  ProxyJump far\nHost near\n  HostName 10.0.0.9\n  User hop\n  Port 2201\n",
        )
        chain = plan_route("lab", Wanted("lab", proxy_jump="near,admin@mid:2202"), cfg).chain()
        assert [(c.host, c.user, c.port) for c in chain[:2]] == [
            ("10.0.0.9", "hop", 2201),
            ("mid", "admin", 2202),
        ]

    def test_a_jump_hosts_user_is_its_own(self, tmp_path: Path) -> None:
        """As with `ssh -J`, a jump host's user is the one written in the hop, else its
        config's User, else the local user: never the runner's login user."""
        import getpass

        cfg = config(tmp_path, "Host near\n  User hop\n")
        chain = plan_route(
            "lab", Wanted("lab", user="perf", proxy_jump="far,near,x@mid"), cfg
        ).chain()
        assert [c.user for c in chain] == [getpass.getuser(), "hop", "x", "perf"]

    def test_proxyjump_loop_is_refused(self, tmp_path: Path) -> None:
        """Hops whose own configs lead back in a circle are an input error, not a hang."""
        cfg = config(
            tmp_path, "Host a\n  ProxyJump b\nHost b\n  ProxyJump c\nHost c\n  ProxyJump b\n"
        )
        with pytest.raises(InputError, match="ProxyJump loop"):
            plan_route("lab", Wanted("a"), cfg)


class TestThreads:
    def test_routes_planned_and_opened_in_many_threads(self, tmp_path: Path) -> None:
        """Fan-out plans and opens routes in many threads at once: no route sees another's
        Fabric config half-rebuilt (Fabric writes into a Connection's config while creating
        it, and open() reads it)."""
        from concurrent.futures import ThreadPoolExecutor

        cfg = config(tmp_path, "Host *\n  User lab\n")

        def plan(i: int) -> str:
            route = plan_route(f"r{i}", Wanted(f"10.0.{i // 250}.{i % 250}"), cfg)
            assert route.target.authentication.strategy_class is None  # what open() reads
            return str(route.target.user)

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # threads take turns often, as on a busy controller
        try:
            with ThreadPoolExecutor(16) as pool:
                assert set(pool.map(plan, range(2000))) == {"lab"}
        finally:
            sys.setswitchinterval(interval)
