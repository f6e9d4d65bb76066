"""Session-wide test setup shared by every test package."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The SSH test fleet (network namespaces with an sshd each) for every test package.
pytest_plugins = ["tests.fleet.plugin"]

# The local runner's state dir (its preparation record and host lock) is the session's own,
# never the machine's /var/lib/perflab: test sessions that share this machine must not
# take each other's host lock. Tests that prepare set their own folder.
os.environ["PERFLAB_STATE_DIR"] = tempfile.mkdtemp(prefix="perflab-test-state-")

# Likewise $PERFLAB_HOME (the store, run folders, config.yaml) is the session's own, never
# the user's: a config.yaml there may name the lab's real database, and another checkout's
# tests may have migrated the shared SQLite file to a schema this one does not know.
os.environ["PERFLAB_HOME"] = tempfile.mkdtemp(prefix="perflab-test-home-")

# perflab reads ~/.ssh/config and /etc/ssh/ssh_config as ssh does; tests never read this
# machine's: they name an empty file, and tests of SSH config write their own and name it.
os.environ["PERFLAB_SSH_CONFIG"] = str(
    Path(tempfile.mkdtemp(prefix="perflab-test-ssh-")) / "config"
)
Path(os.environ["PERFLAB_SSH_CONFIG"]).touch()

# Subprocesses (`python -m perflab ...`) import this checkout, not an installed copy.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
)


# -- machine hygiene -----------------------------------------------------------------------
# Preparation changes the whole machine. Whatever a test does, the session must end with no
# cgroup it created left behind (tests name theirs SESSION_TAG + n). A leftover fails the
# session, after it is cleaned up so the machine stays usable.

import contextlib  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

CGROUP_ROOTS = ("/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/unified")


SESSION_TAG = f"perflab-t{os.getpid()}-"  # every cgroup a test here creates starts with it


def perflab_cgroups() -> list[Path]:
    """Cgroups this session created and left (never another session's: several test runs
    may share a machine, and their cgroups are theirs to clean up)."""
    found: list[Path] = []
    for root in CGROUP_ROOTS:
        base = Path(root)
        if base.is_dir():
            found += [p for p in base.iterdir() if p.is_dir() and p.name.startswith(SESSION_TAG)]
    return found


def _evacuate(group: Path) -> None:
    """Move a leftover cgroup's tasks to its parent, thaw it, remove it."""
    state = group / "freezer.state"
    if state.exists():
        state.write_text("THAWED")
    for name in ("tasks", "cgroup.procs"):
        tasks = group / name
        if tasks.exists():
            for tid in tasks.read_text().split():
                with contextlib.suppress(OSError):  # gone meanwhile
                    (group.parent / name).write_text(tid)
            break
    group.rmdir()


# Several test sessions may share this machine (engineers' checkouts, helpers). A test that
# changes the machine (a shield that moves every task to CPU 0, a sysctl, a frozen process)
# must not run while another session's test measures or changes it too: such tests take an
# exclusive lock on the machine for their length, every other test a shared one. CI runs
# alone and never waits.
MACHINE_LOCK = Path("/tmp/perflab-test-machine.lock")
MACHINE_TURNSTILE = Path("/tmp/perflab-test-machine.turn")
MACHINE_CHANGING = {
    "tests/prepare/test_shield_real.py",
    "tests/prepare/test_shield_v2.py",
    "tests/prepare/test_prepare_cli.py",
    "tests/prepare/test_every_ending.py",
    "tests/prepare/test_round_trips.py",
    "tests/prepare/test_name_prefix.py",
    "tests/knobs/test_real.py",
    "tests/pinning/test_real.py",
    "tests/pinning/test_cli.py",
    "tests/jobqueue/test_faults.py",
    "tests/runners/test_become.py",
    "tests/runners/test_ssh_runners.py",
    "tests/prepare/test_contamination_real.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if str(Path(item.path).relative_to(REPO)) in MACHINE_CHANGING:
            item.add_marker(pytest.mark.machine)


@pytest.fixture(autouse=True)
def _machine_turn(request: pytest.FixtureRequest) -> Iterator[None]:
    """Exclusive for tests marked ``machine``, shared for the others (see above)."""
    import fcntl

    exclusive = request.node.get_closest_marker("machine") is not None
    fd = os.open(MACHINE_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    turn = os.open(MACHINE_TURNSTILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        # flock lets new shared holders in while an exclusive one waits, so with several
        # sessions a machine test could wait forever: everyone passes a turnstile first,
        # and a machine test keeps it closed until it has the machine.
        fcntl.flock(turn, fcntl.LOCK_EX)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            os.close(turn)
        if not exclusive:
            _wait_for_foreign_shields()
        yield
    finally:
        os.close(fd)


# A session that does not share the lock file (another container's /tmp, an old checkout
# without the lock) can still shield this kernel's CPUs: its cgroups are visible here.
# Every shared-mode test waits for such a foreign shield to go, up to FOREIGN_WAIT seconds per
# session in all; then the tests run and fail with perflab's own "CPU(s) 1 are not
# available" message, which names the cause.
FOREIGN_WAIT = 600.0
_foreign_budget = [FOREIGN_WAIT]


def foreign_shields() -> list[Path]:
    """perflab cpuset cgroups on this kernel that this session did not create."""
    base = Path("/sys/fs/cgroup/cpuset")
    if not base.is_dir():
        return []
    return [
        p
        for p in base.iterdir()
        if p.is_dir() and "perflab" in p.name and not p.name.startswith(SESSION_TAG)
    ]


def _wait_for_foreign_shields() -> None:
    import time

    if _foreign_budget[0] <= 0 or not foreign_shields():
        return
    start = time.monotonic()
    print(f"\nwaiting for another session's perflab shield to go: {foreign_shields()}")
    while foreign_shields() and time.monotonic() - start < _foreign_budget[0]:
        time.sleep(1.0)
    _foreign_budget[0] -= time.monotonic() - start


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftovers = perflab_cgroups()
    for group in leftovers:
        with contextlib.suppress(OSError):
            _evacuate(group)
    if leftovers:
        session.exitstatus = 1
        print(f"\nMACHINE NOT RESTORED: perflab cgroups were left behind: {leftovers}")
