"""Fixtures that prepare this machine for real, and always put it back.

Every test gets a unique cgroup prefix and a private state file; teardown
restores from the state file, kills only the processes the test started, and
asserts that nothing carrying the prefix is left.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.prepare import engine
from perflab.prepare.host import RunnerHost
from perflab.transport.local import LocalTransport
from tests.conftest import SESSION_TAG

_counter = itertools.count()
HAS_CPUSET = Path("/sys/fs/cgroup/cpuset/cpuset.cpus").exists()
HAS_FREEZER = Path("/sys/fs/cgroup/freezer/cgroup.procs").exists()
needs_root_cgroups = pytest.mark.skipif(
    os.geteuid() != 0 or not HAS_CPUSET, reason="needs root and the cgroup v1 cpuset controller"
)


def leftovers(prefix: str) -> list[str]:
    found = []
    for root in ("/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/freezer"):
        base = Path(root)
        if base.is_dir():
            found += [str(p) for p in base.iterdir() if p.name.startswith(prefix)]
    return found


@pytest.fixture
def prefix() -> str:
    return f"{SESSION_TAG}{next(_counter)}"


@pytest.fixture
def local_host(prefix: str, tmp_path: Path) -> Iterator[RunnerHost]:
    host = RunnerHost(
        "local",
        LocalTransport(),
        {"perflab_name_prefix": prefix, "perflab_state_dir": str(tmp_path / "state")},
    )
    root_cpus = Path("/sys/fs/cgroup/cpuset/cpuset.cpus").read_text() if HAS_CPUSET else None
    balance = Path("/sys/fs/cgroup/cpuset/cpuset.sched_load_balance")
    balance_before = balance.read_text() if balance.exists() else None
    try:
        yield host
    finally:
        engine.restore(host)
        assert leftovers(prefix) == [], "a test left cgroups behind"
        assert not Path(host.state_file).exists(), "restore must remove the state file"
        if root_cpus is not None:
            assert Path("/sys/fs/cgroup/cpuset/cpuset.cpus").read_text() == root_cpus
        if balance_before is not None:
            assert balance.read_text() == balance_before


class Neighbours:
    """Busy processes this test started, each in a session of its own."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, marker: str, cpu: int | None = None) -> subprocess.Popen[bytes]:
        code = f"import os\n# {marker}\nwhile True: pass\n"
        argv = [sys.executable, "-c", code, marker]
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu), *argv]
        proc = subprocess.Popen(argv, start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)  # never leave one stopped
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def neighbours() -> Iterator[Neighbours]:
    crowd = Neighbours()
    try:
        yield crowd
    finally:
        crowd.stop()


def status_field(pid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise KeyError(key)


def cpu_ticks(pid: int) -> int:
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])
