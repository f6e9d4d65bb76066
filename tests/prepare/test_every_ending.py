"""Every way a command can end leaves the host as it was, and one command holds a host.

Real `perflab` processes on this machine, a real shield (always restored), real
signals: SIGTERM and SIGHUP behave like Ctrl-C; after a SIGKILL the benchmark stops,
the lock goes, and the next command restores what the dead one left; a second
command on a busy runner is refused or waits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.prepare.conftest import leftovers, needs_root_cgroups, status_field

pytestmark = [
    needs_root_cgroups,
    pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs"),
]

SHIELD = "name: s\ntasks:\n  - cpuset_shield: {cpus: reserved}\n  - aslr: {value: 2}\n"
BALANCE = Path("/sys/fs/cgroup/cpuset/cpuset.sched_load_balance")


def slow_job(folder: Path, marker: str, runs: int = 60, name: str = "slow") -> Path:
    """A job whose repetitions sleep 0.2 s; ``marker`` is in every benchmark's argv."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nworkdir: .\nbenchmarks:\n  - name: s\n    command: "
        f"[python3, -c, 'import time; time.sleep(0.2)', {marker}]\n"
        f"    format: time\nrepetitions: {{warmup: 0, runs: {runs}}}\n"
    )
    return path


def marked(marker: str) -> list[int]:
    """Processes whose command line carries ``marker`` (this test's benchmarks only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class Perflab:
    """`python -m perflab` processes with this test's home, state dir and cgroup prefix."""

    def __init__(self, tmp_path: Path, prefix: str) -> None:
        self.home = tmp_path / "h"
        self.env = {
            **os.environ,
            "PERFLAB_HOME": str(self.home),
            "PERFLAB_PREFIX": prefix,
            "PERFLAB_STATE_DIR": str(tmp_path / "state"),
        }
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *argv: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "perflab", *argv],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "perflab", *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def measured(self, count: int, timeout: float = 60) -> str:
        """Wait until a run has measured ``count`` repetitions; its run id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for journal in (self.home / "runs").glob("*/events.jsonl"):
                if journal.read_text().count('"kind": "run"') >= count:
                    return journal.parent.name
            time.sleep(0.05)
        raise AssertionError(f"no run measured {count} repetitions within {timeout} s")

    def runs(self) -> dict[str, dict]:
        listed = self.run("results", "list", "--json")
        return {r["run_id"]: r for r in json.loads(listed.stdout)["runs"]}

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=30)


@pytest.fixture
def perflab(tmp_path: Path, prefix: str) -> Iterator[Perflab]:
    """Commands of this test; afterwards every one is stopped and the host restored."""
    tool = Perflab(tmp_path, prefix)
    balance = BALANCE.read_text()
    pid1 = status_field(1, "Cpus_allowed_list")
    try:
        yield tool
    finally:
        tool.stop()
        restored = tool.run("restore", "local")
        assert restored.returncode == 0, restored.stderr
        assert leftovers(prefix) == []
        assert BALANCE.read_text() == balance
        assert status_field(1, "Cpus_allowed_list") == pid1


def profile(tmp_path: Path) -> str:
    path = tmp_path / "profile.yml"
    path.write_text(SHIELD)
    return str(path)


class TestStopSignals:
    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
    def test_like_ctrl_c(self, perflab: Perflab, tmp_path: Path, prefix: str, signum: int) -> None:
        """SIGTERM (timeout, docker stop, a cancelled CI job) and SIGHUP (a closed
        terminal) during `run --profile`: the benchmark stops, what was measured is kept,
        the host is restored, the run is `interrupted`, the exit status is 128 + signal."""
        marker = f"perflab-sig-{prefix}"
        pid1 = status_field(1, "Cpus_allowed_list")
        proc = perflab.start(
            "run", str(slow_job(tmp_path, marker)), "--profile", profile(tmp_path), "--json"
        )
        run_id = perflab.measured(2)
        assert leftovers(prefix), "the shield is up while the run goes"
        assert status_field(1, "Cpus_allowed_list") != pid1, "PID 1 was moved off the shield"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signum, err
        doc = json.loads(out)
        assert doc["run_id"] == run_id and doc["status"] == "interrupted"
        assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) >= 2
        assert signal.Signals(signum).name in err
        assert leftovers(prefix) == [], "both cgroups are gone"
        assert status_field(1, "Cpus_allowed_list") == pid1, "PID 1 is back on every CPU"
        assert not (tmp_path / "state" / "state.json").exists()
        assert marked(marker) == [], "no benchmark process outlives the run"
        assert perflab.runs()[run_id]["status"] == "interrupted"


class TestControllerKilled:
    def test_next_command_restores_and_closes_the_run(
        self, perflab: Perflab, tmp_path: Path, prefix: str
    ) -> None:
        """SIGKILL of `perflab run --profile`: the harness stops the benchmark (its
        controller is gone), the host lock goes with the controller, the next `run` says
        it found the dead run's preparation and restores it before measuring, and the dead
        run's row is closed as failed: controller lost."""
        marker = f"perflab-kill-{prefix}"
        proc = perflab.start("run", str(slow_job(tmp_path, marker)), "--profile", profile(tmp_path))
        dead = perflab.measured(2)
        proc.kill()
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while marked(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marked(marker) == [], "the orphaned harness stopped the benchmark"
        assert leftovers(prefix), "nobody restored the host yet"

        fast = slow_job(tmp_path, f"{marker}-next", runs=1, name="next")
        after = perflab.run("run", str(fast), "--json")
        assert after.returncode == 0, after.stderr
        assert "controller is gone" in after.stderr and f"run {dead}" in after.stderr
        assert leftovers(prefix) == [], "restored before measuring"
        doc = json.loads(after.stdout)
        assert doc["tuning"].get("profile") is None, "measured unprepared, not in the shield"
        # unprepared on a machine other sessions load, the run may also be `contaminated`
        assert [f["code"] for f in doc["flags"] if f["code"] != "contaminated"] == [
            "stale_preparation"
        ]
        lost = perflab.run("results", "show", dead, "--json")
        shown = json.loads(lost.stdout)
        assert shown["status"] == "failed"
        assert shown["message"].startswith("controller lost")

    def test_prepare_after_a_dead_run_restores_first(
        self, perflab: Perflab, tmp_path: Path, prefix: str
    ) -> None:
        """`perflab prepare` on a host a dead run left prepared puts it back first, so the
        new preparation records the host's own values, not the dead run's."""
        proc = perflab.start(
            "run", str(slow_job(tmp_path, f"perflab-p-{prefix}")), "--profile", profile(tmp_path)
        )
        perflab.measured(1)
        proc.kill()
        proc.communicate(timeout=30)
        prepared = perflab.run("prepare", "local", "--profile", profile(tmp_path), "--json")
        assert prepared.returncode == 0, prepared.stderr
        assert "controller is gone" in prepared.stderr
        doc = json.loads(prepared.stdout)
        assert doc["changed"] > 0, "prepared from the restored state, not the dead run's"
        assert any("restored it" in note for note in doc["notes"])
        state = json.loads((tmp_path / "state" / "state.json").read_text())
        assert state["owner"]["kind"] == "prepare" and state["complete"] is True


class TestOneCommandPerHost:
    def test_second_run_is_refused_then_waits(
        self, perflab: Perflab, tmp_path: Path, prefix: str
    ) -> None:
        """A second `run` on a runner that is measuring exits 1 naming the run, its pid and
        since when; with --lock-wait it starts only after the first has finished."""
        first = perflab.start(
            "run", str(slow_job(tmp_path, f"perflab-a-{prefix}", runs=25)), "--json"
        )
        run_a = perflab.measured(1)
        second = slow_job(tmp_path, f"perflab-b-{prefix}", runs=2, name="second")
        refused = perflab.run("run", str(second))
        assert refused.returncode == 1
        line = refused.stderr.splitlines()[0]
        assert f"runner local is busy: run {run_a} (pid {first.pid} on " in line
        assert " since " in line and "--lock-wait" in refused.stderr
        waited = perflab.run("run", str(second), "--lock-wait", "120", "--json")
        assert waited.returncode == 0, waited.stderr
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        a, b = json.loads(out), json.loads(waited.stdout)
        assert b["started_at"] >= a["finished_at"], "never two runs on the runner at once"
        assert "is busy" in waited.stderr, "it said what it waited for"

    def test_prepare_and_restore_wait_for_a_run(
        self, perflab: Perflab, tmp_path: Path, prefix: str
    ) -> None:
        """`prepare` and `restore` never touch a host a run is measuring on."""
        run = perflab.start(
            "run",
            str(slow_job(tmp_path, f"perflab-c-{prefix}", runs=300)),
            "--profile",
            profile(tmp_path),
        )
        perflab.measured(1)
        for argv in (
            ("restore", "local"),
            ("prepare", "local", "--profile", profile(tmp_path)),
            ("verify", "local"),
        ):
            busy = perflab.run(*argv)
            assert busy.returncode == 1 and "is busy" in busy.stderr, argv
            assert run.poll() is None, "the run was still going"
        assert leftovers(prefix), "the run's shield is still up"
        run.terminate()
        run.communicate(timeout=60)
        assert run.returncode == 128 + signal.SIGTERM
        assert leftovers(prefix) == []

    def test_concurrent_prepares_keep_the_restore_record(
        self, perflab: Perflab, tmp_path: Path, prefix: str
    ) -> None:
        """Two `prepare` at once: they take turns on the host lock, the state file keeps
        every original value, and one restore puts everything back."""
        aslr = Path("/proc/sys/kernel/randomize_va_space").read_text()
        text = SHIELD.replace("value: 2", "value: 0")
        path = tmp_path / "p0.yml"
        path.write_text(text)
        procs = [
            perflab.start("prepare", "local", "--profile", str(path), "--lock-wait", "60")
            for _ in range(2)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        assert Path("/proc/sys/kernel/randomize_va_space").read_text().strip() == "0"
        restored = perflab.run("restore", "local")
        assert restored.returncode == 0, restored.stderr
        assert Path("/proc/sys/kernel/randomize_va_space").read_text() == aslr
        assert leftovers(prefix) == []

    def test_run_profile_does_not_undo_a_deliberate_preparation(
        self, perflab: Perflab, tmp_path: Path, prefix: str
    ) -> None:
        """A host prepared with `perflab prepare` is not re-prepared and then restored by a
        run's --profile: exit 3 with what to do; the preparation stays."""
        assert perflab.run("prepare", "local", "--profile", profile(tmp_path)).returncode == 0
        job = slow_job(tmp_path, f"perflab-d-{prefix}", runs=1)
        refused = perflab.run("run", str(job), "--profile", profile(tmp_path))
        assert refused.returncode == 3
        assert "already prepared" in refused.stderr and "perflab restore local" in refused.stderr
        assert leftovers(prefix), "the deliberate preparation stays"
        used = perflab.run("run", str(job), "--json")
        assert used.returncode == 0, used.stderr
        assert json.loads(used.stdout)["tuning"]["profile"] == "s"


class TestAffinity:
    def test_restore_sets_back_the_affinity_the_kernel_forgot(
        self, local_host, neighbours, prefix
    ) -> None:
        """A task pinned to CPU 1 is narrowed to CPU 0 by the shield. If its affinity is
        lost meanwhile (older kernels forget a pin across cpuset moves; here the test
        re-pins it), restore gives it its own CPU 1 back and says so."""
        from perflab.prepare import engine
        from perflab.spec.playbook import parse_profile

        pinned = neighbours.start(f"{prefix}-pinned", cpu=1)
        time.sleep(0.2)
        assert status_field(pinned.pid, "Cpus_allowed_list") == "1"
        shield = parse_profile("name: t\ntasks:\n  - cpuset_shield: {cpus: reserved}\n", "t.yml")
        engine.apply(engine.plan_profile(local_host, shield))
        assert status_field(pinned.pid, "Cpus_allowed_list") == "0"
        os.sched_setaffinity(pinned.pid, {0})  # the pin is forgotten
        report = engine.restore(local_host)
        assert status_field(pinned.pid, "Cpus_allowed_list") == "1"
        assert pinned.pid in [t["tid"] for t in report.affinity_restored]
        assert report.affinity_changed == []
