"""The fleet: SSH hosts in network namespaces, built on demand, torn down without a trace.

Usable from pytest (see :mod:`tests.fleet.plugin`) and from scripts::

    with Fleet() as fleet:
        hosts = fleet.hosts(50)            # built in parallel
        print(hosts[0].address, hosts[0].key_file)

Everything carries the fleet's prefix ``perflab-<token>``: namespaces
``perflab-<token>-<i>``, links ``perflab<token>h<i>``, the temp directory
``/tmp/perflab-fleet-<token>-*``. :meth:`Fleet.close` kills only processes in
its own namespaces (sshd and whatever ran over SSH there), deletes the
namespaces and links, removes the directory; :meth:`Fleet.leftovers` lists
anything that survived.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from tests.fleet import netns
from tests.fleet.host import SSHD, FleetHost, process_identity
from tests.fleet.keys import generate

HOSTS_PER_BLOCK = 64
PARALLEL = 16


def unavailable() -> str | None:
    """Why no fleet can be built here, or None."""
    if os.geteuid() != 0:
        return "the SSH test fleet needs root (network namespaces)"
    if not SSHD.exists():
        return f"openssh-server is not installed ({SSHD} missing); .ci/run installs it"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    return None


class Fleet:
    """A set of SSH hosts in network namespaces, shared by one test session or script."""

    def __init__(self) -> None:
        reason = unavailable()
        if reason:
            raise netns.FleetError(reason)
        taken = set(netns.namespaces()) | set(netns.links())
        self.token = secrets.token_hex(2)
        while any(n.startswith((f"perflab-{self.token}-", f"perflab{self.token}")) for n in taken):
            self.token = secrets.token_hex(2)
        self.prefix = f"perflab-{self.token}"
        self.link_prefix = f"perflab{self.token}"
        self.directory = Path(tempfile.mkdtemp(prefix=f"perflab-fleet-{self.token}-"))
        self._lock = threading.Lock()
        self._hosts: dict[str, FleetHost] = {}
        self._building: dict[str, threading.Event] = {}
        self._blocks: list[int] = []
        self._count = 0
        self._killed: list[tuple[int, str]] = []
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        self.client_key = generate(self.directory / "client_key", "perflab-fleet-client")
        self.wrong_key = generate(self.directory / "wrong_key", "perflab-fleet-unauthorized")
        self.authorized_keys = self.directory / "authorized_keys"
        self.authorized_keys.write_text(self.client_key.public + "\n", encoding="utf-8")

    def __enter__(self) -> Fleet:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- building ---------------------------------------------------------------------

    def _next_slot(self) -> tuple[int, str, str]:
        """(index, gateway address, host address) for the next host."""
        with self._lock:
            index = self._count
            self._count += 1
            while len(self._blocks) <= index // HOSTS_PER_BLOCK:
                self._blocks.append(netns.claim_block(self.token))
        gateway, address = netns.subnet(
            self._blocks[index // HOSTS_PER_BLOCK], index % HOSTS_PER_BLOCK
        )
        return index, gateway, address

    def _build(
        self,
        name: str,
        behind: str | None,
        sshd_config: str,
        overlays: Mapping[str, Path],
        port: int,
    ) -> FleetHost:
        parent = self.host(behind) if behind else None
        index, gateway, address = self._next_slot()
        directory = self.directory / f"host-{index}"
        directory.mkdir()
        host = FleetHost(
            name=name,
            netns=f"{self.prefix}-{index}",
            address=address,
            gateway=gateway,
            key_file=self.client_key.path,
            host_keypair=generate(directory / "host_ed25519_key", f"perflab-fleet-{name}"),
            directory=directory,
            outer_link=f"{self.link_prefix}h{index}",
            inner_link=f"{self.link_prefix}n{index}",
            via=parent,
            authorized_keys=self.authorized_keys,
            extra_config=sshd_config,
            overlays=dict(overlays),
            port=port,
        )
        host.write_config()
        if parent is None:
            netns.add_host_netns(host.netns, host.outer_link, host.inner_link, gateway, address)
        else:
            netns.add_behind_netns(
                host.netns,
                parent.netns,
                outer=host.outer_link,
                inner=host.inner_link,
                gateway=gateway,
                address=address,
            )
        host.start_sshd()
        return host

    def host(
        self,
        name: str,
        *,
        behind: str | None = None,
        sshd_config: str = "",
        overlays: Mapping[str, Path] | None = None,
        port: int = 22,
    ) -> FleetHost:
        """The host called ``name``, built on first use (``behind``: reachable only via that host;
        its sshd listens on ``port``).

        ``sshd_config`` lines come before the defaults, so they win (sshd takes a
        keyword's first value); ``overlays`` maps paths to files bind-mounted over them
        for that sshd only (a test's /etc/shadow, say). Both apply when the host is built.

        Safe to call from several threads: each name is built once.
        """
        with self._lock:
            if name in self._hosts:
                return self._hosts[name]
            event = self._building.get(name)
            builder = event is None
            if builder:
                event = self._building[name] = threading.Event()
        assert event is not None
        if not builder:
            event.wait()
            if name not in self._hosts:
                raise netns.FleetError(f"building fleet host {name} failed in another thread")
            return self._hosts[name]
        try:
            host = self._build(name, behind, sshd_config, overlays or {}, port)
            with self._lock:
                self._hosts[name] = host
            return host
        finally:
            with self._lock:
                self._building.pop(name, None)
            event.set()

    def hosts(self, count: int, prefix: str = "h") -> list[FleetHost]:
        """``count`` hosts named ``<prefix>0`` ... built in parallel."""
        names = [f"{prefix}{i}" for i in range(count)]
        with ThreadPoolExecutor(max_workers=min(PARALLEL, max(count, 1))) as pool:
            return list(pool.map(self.host, names))

    @property
    def all_hosts(self) -> list[FleetHost]:
        with self._lock:
            return list(self._hosts.values())

    def write_known_hosts(self, path: Path, hosts: list[FleetHost] | None = None) -> Path:
        """A known_hosts file pinning the given hosts' keys (all hosts by default)."""
        chosen = self.all_hosts if hosts is None else hosts
        path.write_text("".join(h.known_hosts_line() + "\n" for h in chosen), encoding="utf-8")
        return path

    # -- teardown ---------------------------------------------------------------------

    def close(self) -> None:
        """Kill what runs in our namespaces, delete them and our links, remove our files."""
        errors = []
        for host in sorted(self.all_hosts, key=lambda h: h.via is None):  # hosts behind first
            try:
                self._killed += host.kill_all()
            except Exception as exc:  # keep tearing down the others
                errors.append(f"{host.name}: {exc}")
            netns.delete_netns(host.netns)
        for link in netns.links():
            if link.startswith(self.link_prefix):
                netns.ip("link", "del", link, check=False)
        for block in self._blocks:
            netns.release_block(block, self.token)
        shutil.rmtree(self.directory, ignore_errors=True)
        with self._lock:
            self._hosts.clear()
        if errors:
            raise netns.FleetError("fleet teardown: " + "; ".join(errors))

    def leftovers(self) -> list[str]:
        """Anything of this fleet still on the machine (empty after a clean close)."""
        found = [f"netns {n}" for n in netns.namespaces() if n.startswith(self.prefix + "-")]
        found += [f"link {n}" for n in netns.links() if n.startswith(self.link_prefix)]
        found += [f"claim {c}" for c in netns.claimed_by(self.token)]
        found += [
            f"process {pid} ({what})"
            for pid, what in self._killed
            if process_identity(pid) == (pid, what)
        ]
        found += [f"process {pid}" for pid in _processes_mentioning(str(self.directory))]
        if self.directory.exists():
            found.append(f"directory {self.directory}")
        return found


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _processes_mentioning(text: str) -> list[int]:
    """Processes whose command line names ``text`` (our sshd's config path lives under it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and text in _cmdline(int(entry.name)):
            found.append(int(entry.name))
    return found
