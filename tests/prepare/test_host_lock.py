"""The host lock on its own: busy, waiting, and let go when its controller dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from perflab.errors import HostError
from perflab.prepare.host import RunnerHost
from perflab.prepare.lock import RunnerBusy, host_lock
from perflab.transport.local import LocalTransport


def local(state: Path) -> RunnerHost:
    return RunnerHost("local", LocalTransport(), {"perflab_state_dir": str(state)})


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


class TestHostLock:
    def test_busy_names_the_owner(self, tmp_path: Path) -> None:
        """A second holder with no wait is refused at once, naming what holds the runner,
        its pid and host, and since when; the first keeps it."""
        host = local(tmp_path / "state")
        with host_lock(host, "run 0904227a") as held:
            start = time.monotonic()
            with pytest.raises(RunnerBusy) as caught, host_lock(host, "prepare", wait=0):
                pass
            assert time.monotonic() - start < 10
            text = str(caught.value)
            assert text.startswith(f"runner local is busy: run 0904227a (pid {os.getpid()} on ")
            assert f" since {time.strftime('%H:%M', time.localtime(held.owner.since))}" in text
            assert "--lock-wait" in (caught.value.hint or "")
            held = json.loads((tmp_path / "state" / "lock").read_text())
            assert held["what"] == "run 0904227a" and held["pid"] == os.getpid()
        assert (tmp_path / "state" / "lock").read_text() == "", "the owner is cleared"

    def test_waits_for_the_holder(self, tmp_path: Path) -> None:
        """With a wait, the second holder gets the runner once the first lets go, and not
        before."""
        host = local(tmp_path / "state")
        released = threading.Event()
        order: list[str] = []

        def first() -> None:
            with host_lock(host, "first"):
                order.append("first in")
                released.wait(10)
                time.sleep(0.3)
                order.append("first out")

        thread = threading.Thread(target=first)
        thread.start()
        while not order:
            time.sleep(0.01)
        released.set()
        with host_lock(host, "second", wait=30):
            order.append("second in")
        thread.join()
        assert order == ["first in", "first out", "second in"]

    def test_let_go_when_the_controller_is_killed(self, tmp_path: Path) -> None:
        """SIGKILL of the controller holding the lock: the helper sees its stdin close and
        lets go; nothing of it stays behind."""
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(tmp_path / "state")], stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            with pytest.raises(RunnerBusy), host_lock(local(tmp_path / "state"), "x", wait=0):
                pass
        finally:
            holder.kill()
            holder.wait()
        with host_lock(local(tmp_path / "state"), "after", wait=10):
            pass

    def test_ignores_stop_signals_sent_to_it(self, tmp_path: Path) -> None:
        """Ctrl-C to a whole process group must not end the lock before the controller's
        restore does: the helper ignores SIGINT, SIGTERM and SIGHUP."""
        host = local(tmp_path / "state")
        with host_lock(host, "run 1"):
            held = json.loads((tmp_path / "state" / "lock").read_text())
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                os.kill(held["holder"], signum)
            time.sleep(0.3)
            with pytest.raises(RunnerBusy), host_lock(host, "run 2", wait=0):
                pass

    def test_an_unusable_state_dir_is_a_clear_error(self, tmp_path: Path) -> None:
        """A state dir that cannot be made (a file is in the way): the error says where and
        how to fix it."""
        (tmp_path / "file").write_text("")
        with pytest.raises(HostError) as caught, host_lock(local(tmp_path / "file" / "s"), "x"):
            pass
        assert "cannot take the host lock" in str(caught.value)
        assert "perflab_state_dir" in (caught.value.hint or "")


SIGNALS = textwrap.dedent("""
    import os, signal, sys
    from perflab import signals
    signals.install()
    try:
        with signals.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGHUP)
            print("block finished", flush=True)
    except signals.Terminated as stop:
        print("raised", stop.signum, signals.received(), flush=True)
        sys.exit(signals.exit_status(stop.signum))
""")


class TestSignals:
    def test_deferred_block_is_not_cut_short(self) -> None:
        """A stop signal inside a deferred block (a restore) is raised when the block has
        finished, as the first signal that came; the exit status is 128 + its number."""
        done = subprocess.run(
            [sys.executable, "-c", SIGNALS], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.stdout.splitlines() == ["block finished", "raised 15 15"]
        assert done.returncode == 143
