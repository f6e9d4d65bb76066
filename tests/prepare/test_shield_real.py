"""The cpuset shield and freezing, for real on this machine (cgroup v1), always restored."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.execute.prepared import run_on_runner
from perflab.execute.runner import RunOptions
from perflab.prepare import engine
from perflab.spec.job import parse_job
from perflab.spec.playbook import parse_profile
from perflab.store import open_store
from tests.prepare.conftest import (
    HAS_FREEZER,
    cpu_ticks,
    leftovers,
    needs_root_cgroups,
    status_field,
)

SHIELD = "name: t\ntasks:\n  - cpuset_shield: {cpus: reserved}\n"
TWO_CPUS = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")

pytestmark = [needs_root_cgroups, TWO_CPUS]


def profile(text: str = SHIELD):
    return parse_profile(text, "test.yml")


class TestShield:
    def test_check_apply_again_restore(self, local_host, neighbours, prefix) -> None:
        """check changes nothing; apply moves a pinned neighbour off CPU 1; again: no changes;
        restore gives the neighbour its own affinity back and leaves nothing behind."""
        hog = neighbours.start("perflab-test-hog", cpu=1)
        time.sleep(0.2)
        assert status_field(hog.pid, "Cpus_allowed_list") == "1"
        planned = engine.check(engine.plan_profile(local_host, profile()))
        assert planned.changed > 0 and leftovers(prefix) == []
        report = engine.apply(engine.plan_profile(local_host, profile()))
        assert report.problems == [] and report.shield["cpus"] == "1"
        assert report.fingerprint and len(report.fingerprint) == 64
        assert status_field(hog.pid, "Cpus_allowed_list") == "0", "the hog must leave CPU 1"
        assert str(hog.pid) in Path(f"/sys/fs/cgroup/cpuset/{prefix}-system/tasks").read_text()
        assert Path("/sys/fs/cgroup/cpuset/cpuset.sched_load_balance").read_text().strip() == "0"
        again = engine.apply(engine.plan_profile(local_host, profile()))
        assert again.changed == 0 and again.fingerprint == report.fingerprint
        back = engine.restore(local_host)
        assert back.failed == [] and not back.nothing
        assert status_field(hog.pid, "Cpus_allowed_list") == "1"
        assert leftovers(prefix) == []
        assert engine.restore(local_host).nothing, "restore is idempotent"

    def test_unmovable_kernel_threads_are_reported(self, local_host) -> None:
        """Per-CPU kernel threads cannot move; they are listed, not hidden."""
        report = engine.apply(engine.plan_profile(local_host, profile()))
        assert report.unmovable, "this kernel always has per-CPU kthreads"
        assert all({"tid", "comm", "error"} <= set(u) for u in report.unmovable)

    def test_benchmark_runs_inside_the_shield(self, local_host, tmp_path: Path) -> None:
        """`run --profile`: the benchmark (and its children) run in the shield; restored after."""
        job = parse_job(
            "name: inside\nbenchmarks:\n  - name: where\n    command: "
            "\"cat /proc/self/cgroup; sh -c 'grep Cpus_allowed_list /proc/self/status'\""
            "\n    format: time\nrepetitions: {warmup: 0, runs: 1}\n",
            str(tmp_path / "j.yaml"),
            tmp_path / "j.yaml",
        )
        store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
        outcome = run_on_runner(
            job, local_host, store, profile=profile(), opts=RunOptions(), probe=False
        )
        out = (outcome.raw_dir / "steps" / "b0-r1.stdout").read_text()
        assert f"cpuset:/{local_host.prefix}-shield" in out
        assert "Cpus_allowed_list:\t1" in out
        view = store.runs.get(outcome.run_id)
        assert view.fields["fingerprint"] and view.fields["tuning"]["profile"] == "t"
        store.close()
        assert leftovers(local_host.prefix) == []

    def test_restore_after_a_crash(self, local_host, prefix) -> None:
        """A controller killed after preparing: `perflab restore` from a new process fixes it."""
        code = (
            "import os, sys\nfrom perflab.prepare import engine\n"
            "from perflab.spec.playbook import parse_profile\n"
            "from perflab.prepare.host import RunnerHost\n"
            "from perflab.transport.local import LocalTransport\n"
            f"host = RunnerHost('local', LocalTransport(), {dict(local_host.vars)!r})\n"
            f"engine.apply(engine.plan_profile(host, parse_profile({SHIELD!r}, 't.yml')))\n"
            "os._exit(9)\n"
        )
        crashed = subprocess.run([sys.executable, "-c", code], check=False)
        assert crashed.returncode == 9 and leftovers(prefix) != []
        env = {
            **os.environ,
            "PERFLAB_PREFIX": prefix,
            "PERFLAB_STATE_DIR": str(Path(local_host.state_file).parent),
        }
        done = subprocess.run(
            [sys.executable, "-m", "perflab", "restore", "local"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "restored" in done.stdout and leftovers(prefix) == []


class TestOneShieldAtATime:
    def test_another_shield_is_refused(self, local_host, prefix) -> None:
        """A second perflab shield on the same host is refused, naming the first one."""
        other = Path(f"/sys/fs/cgroup/cpuset/{prefix}-other-system")
        other.mkdir()
        try:
            with pytest.raises(
                InputError, match=f"another perflab shield is active on local \\({other.name}\\)"
            ):
                engine.plan_profile(local_host, profile())
        finally:
            other.rmdir()


class TestBadShieldInput:
    @pytest.mark.parametrize(
        ("cpus", "message"),
        [('"7"', "not online"), ('"0-1"', "expected at least one housekeeping CPU left")],
    )
    def test_refused_before_anything_is_touched(self, local_host, prefix, cpus, message) -> None:
        """A CPU the host lacks, or reserving every CPU: exit-3 input error, nothing changed."""
        text = SHIELD.replace("{cpus: reserved}", f"{{cpus: {cpus}}}")
        with pytest.raises(InputError, match=message) as caught:
            engine.plan_profile(local_host, profile(text))
        assert caught.value.exit_status == 3
        assert "test.yml:3:" in str(caught.value)
        assert leftovers(prefix) == [] and not Path(local_host.state_file).exists()


@pytest.mark.skipif(not HAS_FREEZER, reason="needs the cgroup v1 freezer")
class TestFreeze:
    def test_freeze_and_thaw_own_neighbour(self, local_host, neighbours, prefix) -> None:
        """A neighbour matching the pattern is frozen (no CPU time) and thawed on restore."""
        marker = f"perflab-test-noise-{prefix}"
        hog = neighbours.start(marker)
        text = (
            f"name: f\ntasks:\n  - freeze: {{patterns: ['*{marker}*'], only_pids: [{hog.pid}]}}\n"
        )
        report = engine.apply(engine.plan_profile(local_host, profile(text)))
        assert report.changed == 1 and report.problems == []
        group = Path(f"/sys/fs/cgroup/freezer/{prefix}-frozen")
        assert (group / "freezer.state").read_text().strip() == "FROZEN"
        before = cpu_ticks(hog.pid)
        time.sleep(0.3)
        assert cpu_ticks(hog.pid) == before, "a frozen process gets no CPU time"
        again = engine.plan_profile(local_host, profile(text))
        assert again.changes == 0, "already frozen: nothing to do"
        engine.restore(local_host)
        time.sleep(0.3)
        assert cpu_ticks(hog.pid) > before, "thawed: it runs again"
        assert leftovers(prefix) == []

    def test_pattern_matching_perflab_itself_is_refused(self, local_host, prefix) -> None:
        """A pattern that would freeze this very process tree is refused, nothing touched."""
        text = "name: f\ntasks:\n  - freeze: {patterns: ['*pytest*', '*python*']}\n"
        with pytest.raises(InputError, match="would freeze protected process"):
            engine.plan_profile(local_host, profile(text))
        assert leftovers(prefix) == [] and not Path(local_host.state_file).exists()

    def test_pid_1_is_never_frozen(self, local_host) -> None:
        """Naming PID 1's command is refused."""
        comm = Path("/proc/1/comm").read_text().strip()
        text = f"name: f\ntasks:\n  - freeze: {{patterns: ['{comm}']}}\n"
        with pytest.raises(InputError, match="protected"):
            engine.plan_profile(local_host, profile(text))
