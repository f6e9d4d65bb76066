"""`perflab prepare|restore|verify local` and `run --profile`, for real, always restored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perflab.transport.local import LocalTransport
from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.prepare.conftest import leftovers, needs_root_cgroups

pytestmark = [
    needs_root_cgroups,
    pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs"),
]

SHIELD = "name: s\ntasks:\n  - cpuset_shield: {cpus: reserved}\n  - aslr: {value: 2}\n"


@pytest.fixture
def machine(prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli):
    """PERFLAB_PREFIX/STATE_DIR for the local runner; restored and checked afterwards."""
    monkeypatch.setenv("PERFLAB_PREFIX", prefix)
    monkeypatch.setenv("PERFLAB_STATE_DIR", str(tmp_path / "state"))
    try:
        yield prefix
    finally:
        cli("restore", "local")
        assert leftovers(prefix) == []


def profile(tmp_path: Path, text: str = SHIELD) -> str:
    path = tmp_path / "profile.yml"
    path.write_text(text)
    return str(path)


class TestPrepareCommand:
    def test_check_apply_again_restore(self, cli, machine, tmp_path: Path) -> None:
        """check (exit 2, nothing touched) -> apply -> no changes -> restore -> nothing left."""
        checked = cli("prepare", "local", "--profile", profile(tmp_path), "--check", "--json")
        assert checked.status == 2 and checked.json()["changed"] > 0
        assert leftovers(machine) == []
        applied = cli("prepare", "local", "--profile", profile(tmp_path), "--json")
        assert applied.status == 0, applied.err
        doc = applied.json()
        assert doc["changed"] > 0 and doc["problems"] == [] and len(doc["fingerprint"]) == 64
        assert [t["status"] for t in doc["tasks"]] == ["change", "ok"], "aslr 2 is already so"
        again = cli("prepare", "local", "--profile", profile(tmp_path))
        assert again.status == 0 and "no changes" in again.out
        restored = cli("restore", "local")
        assert restored.status == 0 and "restored" in restored.out
        assert leftovers(machine) == []
        assert "nothing to restore" in cli("restore", "local").out

    @pytest.mark.skipif(
        not Path("/usr/bin/python3").exists() or not Path("/usr/bin/setpriv").exists(),
        reason="needs /usr/bin/python3 and setpriv",
    )
    def test_not_root_is_refused_before_anything(self, machine, tmp_path: Path) -> None:
        """A host where perflab is not root: refused with exit 3 before anything is touched."""
        from perflab.errors import InputError
        from perflab.prepare import engine
        from perflab.prepare.host import RunnerHost
        from perflab.spec.playbook import parse_profile

        host = RunnerHost(
            "unprivileged",
            AsNobody(),
            {"perflab_name_prefix": machine, "perflab_state_dir": str(tmp_path)},
        )
        with pytest.raises(InputError, match="needs root on unprivileged") as caught:
            engine.plan_profile(host, parse_profile(SHIELD, "s.yml"))
        assert caught.value.exit_status == 3
        assert leftovers(machine) == []


class AsNobody(LocalTransport):
    """Runs host commands as nobody, with the system's python3 (helpers are stdlib-only)."""

    def __init__(self) -> None:
        super().__init__("unprivileged")
        self.python = "/usr/bin/python3"

    def run(self, command, **kwargs):  # type: ignore[no-untyped-def, override]
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        return super().run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv], **kwargs
        )


FAST_JOB = (
    "name: j\nbenchmarks:\n  - {name: a, command: [python3, -c, 'pass'], format: time}\n"
    "repetitions: {warmup: 0, runs: 2}\n"
)


class TestRunWithProfile:
    def test_failed_run_is_restored(self, cli, machine, write_job, tmp_path) -> None:
        """A failing benchmark under --profile: run stored failed, host restored."""
        job = write_job(FAST_JOB.replace("'pass'", "'import sys; sys.exit(4)'"))
        result = cli("run", str(job), "--profile", profile(tmp_path), "--json")
        assert result.status == 1
        doc = result.json()
        assert doc["status"] == "failed" and doc["tuning"]["profile"] == "s"
        assert leftovers(machine) == []

    def test_failed_probe_marks_the_run(self, cli, machine, write_job, tmp_path) -> None:
        """A host that fails the noise probe: the run carries infra_contention_suspected.
        On a shared machine other work may also land on the run's CPU while it runs: the
        run is then (rightly) flagged contaminated too, and nothing else."""
        strict = SHIELD.replace("name: s\n", "name: s\nverify: {max_cv: 0.000001}\n")
        result = cli(
            "run", str(write_job(FAST_JOB)), "--profile", profile(tmp_path, strict), "--json"
        )
        assert result.status == 0, result.err
        flags = {f["code"]: f for f in result.json()["flags"]}
        assert set(flags) - {"contaminated"} == {"infra_contention_suspected"}
        probe = flags["infra_contention_suspected"]
        assert "CV" in probe["message"] and probe["evidence"]["probe"]["cpus"]

    def test_unprepared_and_prepared_fingerprints_differ(
        self,
        cli,
        machine,
        write_job,
        tmp_path,
    ) -> None:
        """The tuning fingerprint tells a prepared run from an unprepared one."""
        plain = cli("run", str(write_job(FAST_JOB)), "--json").json()
        tuned = cli(
            "run", str(write_job(FAST_JOB)), "--profile", profile(tmp_path), "--json"
        ).json()
        assert plain["fingerprint"] != tuned["fingerprint"]


class TestVerifyCommand:
    def test_before_and_after(self, cli, machine, tmp_path: Path) -> None:
        """verify --profile probes before and after preparing, then restores."""
        lenient = SHIELD.replace(
            "name: s\n",
            "name: s\nverify: {max_cv: 10, max_slowdown: 100, "
            "max_involuntary_per_s: 100000, max_interrupts_per_s: 1000000000, "
            "max_other_share: 1, max_steal_share: 1}\n",
        )
        result = cli(
            "verify",
            "local",
            "--profile",
            profile(tmp_path, lenient),
            "--repetitions",
            "20",
            "--json",
        )
        assert result.status == 0, result.err
        doc = result.json()
        assert doc["before"]["cpus"][0]["cpu"] == 1 and doc["after"]["cpus"][0]["n"] == 20
        assert doc["prepared_by"] == "s" and doc["ok"] is True
        assert leftovers(machine) == []

    def test_noisy_host_exits_2(self, cli, machine, tmp_path: Path) -> None:
        """Thresholds no host meets: exit 2 with the failures named."""
        strict = SHIELD.replace("name: s\n", "name: s\nverify: {max_cv: 0.000001}\n")
        result = cli(
            "verify", "local", "--profile", profile(tmp_path, strict), "--repetitions", "20"
        )
        assert result.status == 2 and "too noisy" in result.out


class TestInterruptedRunWithProfile:
    def test_ctrl_c_still_restores(self, machine, tmp_path: Path) -> None:
        """SIGINT during `run --profile`: exit 130, the run kept, the host restored."""
        import json
        import signal
        import subprocess
        import sys
        import time

        job = tmp_path / "slow.yaml"
        job.write_text(
            FAST_JOB.replace("runs: 2", "runs: 40").replace(
                "'pass'", "'import time; time.sleep(0.2)'"
            )
        )
        env = {**os.environ, "PERFLAB_HOME": str(tmp_path / "h")}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "perflab",
                "run",
                str(job),
                "--profile",
                profile(tmp_path),
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            journals = list((tmp_path / "h" / "runs").glob("*/events.jsonl"))
            if journals and journals[0].read_text().count('"kind": "run"') >= 2:
                break
            time.sleep(0.05)
        assert leftovers(machine) != [], "the shield is up while the run goes"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert json.loads(out)["status"] == "interrupted"
        assert leftovers(machine) == [], "restored after Ctrl-C"
