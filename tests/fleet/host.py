"""One fleet host: a network namespace with its own address and an sshd of its own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fleet import netns
from tests.fleet.keys import KeyPair, generate

SSHD = Path("/usr/sbin/sshd")
START_TIMEOUT_S = 15.0

#: ``SetEnv SHLVL=1``: sshd runs each command with root's login shell, and bash reads
#: ~/.bashrc for commands that arrive over SSH unless SHLVL says it is already nested.
#: This machine's root ~/.bashrc runs ``pyenv init``, which runs ``pyenv rehash`` under a
#: lock file; a session the tests kill while it holds that lock leaves it behind, and
#: every later login then waits 60 s for it. The fleet hosts stand for clean runners,
#: so their sessions skip the controller's rc files.
SSHD_CONFIG = """\
Port {port}
ListenAddress {address}
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
MaxSessions 100
MaxStartups 200:30:400
LoginGraceTime 30
Subsystem sftp internal-sftp
LogLevel INFO
SetEnv SHLVL=1
"""


@dataclass
class FleetHost:
    """A real SSH host for tests: connect to ``address:port`` as ``user`` with ``key_file``.

    ``host_key`` is the public key line sshd proves it holds (pin it in a
    known_hosts file with :meth:`known_hosts_line`). ``via`` is the host to jump
    through when this one is not reachable from the root namespace.
    """

    name: str
    netns: str
    address: str
    gateway: str
    key_file: Path
    host_keypair: KeyPair
    directory: Path
    outer_link: str
    inner_link: str
    via: FleetHost | None = None
    port: int = 22
    user: str = "root"
    authorized_keys: Path = field(default=Path())
    #: sshd_config lines written before the defaults (sshd takes a keyword's first value)
    extra_config: str = ""
    #: files or folders bind-mounted (target -> source) in sshd's own mount namespace
    #: (``ip netns exec`` gives it a private one: nothing of it reaches this machine)
    overlays: dict[str, Path] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host_key(self) -> str:
        return self.host_keypair.public

    @property
    def host_key_fingerprint(self) -> str:
        return self.host_keypair.fingerprint

    @property
    def sshd_pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def known_hosts_line(self) -> str:
        name = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        return f"{name} {self.host_keypair.key_type} {self.host_keypair.base64}"

    def proxy_jump(self) -> str | None:
        """ProxyJump spec (``user@host:port``) to reach this host, or None when direct."""
        if self.via is None:
            return None
        return f"{self.via.user}@{self.via.address}:{self.via.port}"

    # -- sshd -------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.directory / "sshd_config"

    @property
    def pid_file(self) -> Path:
        return self.directory / "sshd.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "sshd.log"

    def write_config(self) -> None:
        self.config_path.write_text(
            self.extra_config
            + SSHD_CONFIG.format(
                port=self.port,
                address=self.address,
                host_key=self.host_keypair.path,
                pid_file=self.pid_file,
                authorized_keys=self.authorized_keys,
            ),
            encoding="utf-8",
        )

    def start_sshd(self) -> None:
        """Start sshd in the namespace and wait until it listens (it writes its PidFile then)."""
        self.pid_file.unlink(missing_ok=True)
        sshd = [str(SSHD), "-D", "-f", str(self.config_path), "-E", str(self.log_file)]
        if self.overlays:
            mounts = [str(p) for target, source in self.overlays.items() for p in (source, target)]
            sshd = [
                "sh",
                "-c",
                'set -e; while [ "$1" != -- ]; do mount --bind "$1" "$2"; '
                'shift 2; done; shift; exec "$@"',
                "sh",
                *mounts,
                "--",
                *sshd,
            ]
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, *sshd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.pid_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
                self.stop_sshd()
                raise netns.FleetError(
                    f"sshd for fleet host {self.name} did not start: {log.strip()[-500:]}"
                )
            time.sleep(0.005)

    def stop_sshd(self) -> None:
        """Stop the listening sshd (by its pid); sessions already open keep running."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        self.process = None

    def restart_sshd(self, *, new_host_key: bool = False) -> None:
        """Restart sshd, with a freshly generated host key if asked (a "reinstalled" host)."""
        self.stop_sshd()
        if new_host_key:
            self.host_keypair = generate(self.host_keypair.path, f"perflab-fleet-{self.name}")
        self.start_sshd()

    # -- network ----------------------------------------------------------------------

    def link_down(self) -> None:
        """Cut the host off: its end of the link goes down, packets to it are dropped."""
        netns.ip("-n", self.netns, "link", "set", self.inner_link, "down")

    def link_up(self) -> None:
        netns.ip("-n", self.netns, "link", "set", self.inner_link, "up")

    def exec(self, *argv: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run a command inside the host's namespace (not over SSH)."""
        return subprocess.run(
            ["ip", "netns", "exec", self.netns, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    # -- teardown ---------------------------------------------------------------------

    def kill_all(self, timeout: float = 10.0) -> list[tuple[int, str]]:
        """Kill our sshd and every process in this host's namespace (all of them ours).

        Returns the identities (pid, start time) of what was killed, so a later
        check can tell a survivor from a new process that reused the pid.
        """
        pids = set(netns.pids(self.netns))
        if self.process is not None:
            pids.add(self.process.pid)
        killed = [ident for ident in map(process_identity, sorted(pids)) if ident is not None]
        for pid, _ in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()
            self.process = None
        deadline = time.monotonic() + timeout
        while any(process_identity(p) == (p, s) for p, s in killed) and time.monotonic() < deadline:
            time.sleep(0.01)
        return killed


def process_identity(pid: int) -> tuple[int, str] | None:
    """(pid, start time in clock ticks) of a live process, None when there is none.

    A zombie counts as gone: it is dead, only waiting for its parent to reap it.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return pid, fields[19]
