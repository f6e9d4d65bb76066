"""lock_wait from the config file reaches `perflab run` on a busy runner."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.config.conftest import Lab

FAST = """\
name: fast
benchmarks:
  - name: noop
    command: [python3, -c, "print('hello')"]
    format: time
repetitions: {warmup: 0, runs: 2}
"""

HOLD = textwrap.dedent("""
    import sys, time
    from perflab.prepare.host import RunnerHost
    from perflab.prepare.lock import host_lock
    from perflab.transport.local import LocalTransport
    host = RunnerHost("local", LocalTransport(), {"perflab_state_dir": sys.argv[1]})
    with host_lock(host, "run deadbeef", wait=0):
        print("locked", flush=True)
        time.sleep(600)
""")


@pytest.fixture
def busy(lab: Lab, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """The local runner (state dir of this test) held by another process until killed."""
    state = tmp_path / "state"
    lab.env("PERFLAB_STATE_DIR", str(state))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.fixture
def job(tmp_path: Path) -> str:
    path = tmp_path / "job.yaml"
    path.write_text(FAST)
    return str(path)


class TestLockWaitFromFile:
    def test_file_wait_is_waited(self, lab: Lab, busy: subprocess.Popen[str], job: str) -> None:
        """lock_wait in config.yaml makes `run` wait that long for a busy runner, then fail
        (exit 1) saying how long it waited and where the wait is set."""
        lab.write("lock_wait: 1.5\n")
        start = time.monotonic()
        result = lab.cli("run", job)
        took = time.monotonic() - start
        assert result.status == 1, result.err
        assert "runner local is busy: run deadbeef" in result.err
        assert "waited 1.5 s" in result.err and f"lock_wait in {lab.file}" in result.err
        assert 1.5 <= took < 30

    def test_environment_beats_the_file(
        self, lab: Lab, busy: subprocess.Popen[str], job: str
    ) -> None:
        """PERFLAB_LOCK_WAIT=0 wins over the file's minute: refused at once."""
        lab.write("lock_wait: 60\n")
        lab.env("PERFLAB_LOCK_WAIT", "0")
        start = time.monotonic()
        result = lab.cli("run", job)
        assert result.status == 1 and "waited 0 s" in result.err
        assert time.monotonic() - start < 15

    def test_runs_once_the_runner_is_free(
        self, lab: Lab, busy: subprocess.Popen[str], job: str
    ) -> None:
        """With the file's wait, a run that finds the runner busy starts when it is let go."""
        lab.write("lock_wait: 120\n")
        release = threading.Timer(1.0, busy.kill)  # let go of the runner in a second
        release.start()
        try:
            result = lab.cli("run", job, "--json")
        finally:
            release.cancel()
        assert result.status == 0, result.err
        assert "runner local is busy" in result.err, "it said what it waited for"
