"""Runners over SSH, end to end: real sshd hosts in network namespaces this session made."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.root


def add(cli, host, name: str, *extra: str):
    return cli(
        "runner",
        "add",
        name,
        "--host",
        host.address,
        "--port",
        str(host.port),
        "--user",
        host.user,
        "--key",
        str(host.key_file),
        *extra,
    )


@pytest.fixture
def runner(cli, fleet, tmp_path):
    """A registered runner on a fleet host of its own (its state dir and host lock in the
    test's folder: fleet hosts share this machine's files)."""
    host = fleet.host(f"r{time.monotonic_ns() % 10**9}")
    result = add(
        cli,
        host,
        "box",
        "--accept-new-host-key",
        "--group",
        "lab",
        "--var",
        "perflab_keepalive=1",
        "--var",
        "perflab_connect_timeout=2",
        "--var",
        f"perflab_state_dir={tmp_path}/state",
    )
    assert result.status == 0, result.err
    return host


class TestRegister:
    def test_unknown_host_key_is_shown_not_pinned(self, cli, fleet) -> None:
        """Without --accept-new-host-key the fingerprint is shown and nothing is registered."""
        host = fleet.host("reg-a")
        result = add(cli, host, "a")
        assert result.status == 1
        assert host.host_key_fingerprint in result.err
        assert "--accept-new-host-key" in result.err
        assert [r["name"] for r in cli("runner", "list", "--json").json()["runners"]] == ["local"]

    def test_accept_pins_and_registers(self, cli, fleet, home: Path) -> None:
        """With --accept-new-host-key the key is pinned and the runner registered."""
        host = fleet.host("reg-b")
        result = add(cli, host, "b", "--accept-new-host-key", "--label", "arch=x86")
        assert result.status == 0, result.err
        assert host.host_key_fingerprint in result.out
        assert host.host_key.split()[1] in (home / "known_hosts").read_text()
        shown = cli("runner", "show", "b", "--json").json()
        assert shown["address"] == host.address and shown["labels"] == {"arch": "x86"}
        assert shown["state"] == "idle"

    def test_python_interpreter_from_the_inventory_variable(
        self, cli, fleet, tmp_path: Path
    ) -> None:
        """ansible_python_interpreter names the runner's Python: a missing one refuses the
        runner with the reason (nothing registered); a real one is what perflab runs."""
        host = fleet.host("reg-py")
        bad = add(
            cli,
            host,
            "py",
            "--accept-new-host-key",
            "--var",
            "ansible_python_interpreter=/opt/no-such/python3",
        )
        assert bad.status == 1
        assert "/opt/no-such/python3 was not found" in bad.err and "py" in bad.err
        assert [r["name"] for r in cli("runner", "list", "--json").json()["runners"]] == ["local"]
        log = tmp_path / "python-calls"
        wrapper = tmp_path / "python-wrapper"  # the fleet hosts share this filesystem
        wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec /usr/bin/python3 "$@"\n')
        wrapper.chmod(0o755)
        good = add(
            cli,
            host,
            "py",
            "--accept-new-host-key",
            "--var",
            f"ansible_python_interpreter={wrapper}",
        )
        assert good.status == 0, good.err
        calls = len(log.read_text().splitlines())
        facts = cli("runner", "facts", "py", "--json")
        assert facts.status == 0, facts.err
        assert len(log.read_text().splitlines()) > calls

    def test_duplicate_name(self, cli, runner) -> None:
        """A name that exists: exit 3, nothing changed."""
        result = add(cli, runner, "box", "--accept-new-host-key")
        assert result.status == 3 and "already registered" in result.err

    def test_key_file_problems(self, cli, fleet, tmp_path: Path) -> None:
        """A missing key file, or one others can read: exit 3 before connecting."""
        host = fleet.host("reg-c")
        missing = cli(
            "runner", "add", "c", "--host", host.address, "--key", str(tmp_path / "nokey")
        )
        assert missing.status == 3 and "does not exist" in missing.err
        loose = tmp_path / "loose"
        loose.write_bytes(Path(host.key_file).read_bytes())
        loose.chmod(0o644)
        result = cli("runner", "add", "c", "--host", host.address, "--key", str(loose))
        assert result.status == 3 and "chmod 600" in result.err

    def test_authentication_failure(self, cli, fleet) -> None:
        """A key the host does not accept: a clear error naming the user."""
        host = fleet.host("reg-d")
        result = cli(
            "runner",
            "add",
            "d",
            "--host",
            host.address,
            "--user",
            "root",
            "--key",
            str(fleet.wrong_key.path),
            "--accept-new-host-key",
        )
        assert result.status == 1 and "root" in result.err
        assert [r["name"] for r in cli("runner", "list", "--json").json()["runners"]] == ["local"]

    def test_unreachable_host(self, cli, fleet) -> None:
        """An address where nothing listens: a clear error, nothing registered."""
        host = fleet.host("reg-e")
        result = cli(
            "runner",
            "add",
            "e",
            "--host",
            host.address,
            "--port",
            "2",
            "--key",
            str(host.key_file),
            "--accept-new-host-key",
        )
        assert result.status == 1 and host.address in result.err


class TestUse:
    def test_facts_are_gathered_and_stored(self, cli, runner) -> None:
        """runner facts: OS, CPU topology, memory, kernel, cgroup version, knobs; stored."""
        result = cli("runner", "facts", "box", "--json")
        assert result.status == 0, result.err
        [row] = result.json()["runners"]
        facts = row["result"]
        assert facts["cpu"]["count"] >= 1 and facts["kernel"] and facts["memory_bytes"]
        assert facts["knobs"]["aslr"] is True
        # `ip netns exec` mounts a fresh /sys: no cgroup mounts are visible on fleet hosts
        assert facts["knobs"]["cpuset_shield"] is False
        stored = cli("runner", "show", "box", "--json").json()
        assert stored["facts"]["kernel"] == facts["kernel"] and stored["platform"]

    def test_run_a_job_remotely_with_artifacts(self, cli, runner, write_job, tmp_path) -> None:
        """The workdir goes over, the harness times on the runner, artifacts come back."""
        (tmp_path / "work.sh").write_text(
            '#!/bin/sh\nmkdir -p out; echo "rep $PERFLAB_REPETITION" > out/report.txt\n'
            "hostname -I >&2\n"
        )
        (tmp_path / "work.sh").chmod(0o755)
        job = write_job(
            "name: remote\nbenchmarks:\n  - {name: w, command: ./work.sh, "
            "format: time}\nrepetitions: {warmup: 0, runs: 3}\n"
            'artifacts: ["out/*.txt"]\n'
        )
        result = cli("run", str(job), "--runner", "box", "--json")
        assert result.status == 0, result.err
        doc = result.json()
        assert doc["runner"] == "box" and doc["status"] == "completed"
        assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 3
        [artifact] = doc["artifacts"]
        assert artifact["name"] == "out/report.txt"
        assert Path(artifact["path"]).read_text() == "rep 3\n"
        err = Path(doc["repetitions"][0]["stderr_path"]).read_text()
        assert runner.address in err, "the command ran on the runner"
        leftover = runner.exec(
            "sh", "-c", "ls -d /tmp/perflab-work-* /tmp/perflab-run-* 2>/dev/null || true"
        )
        assert doc["run_id"] not in leftover.stdout, "nothing stays on the runner"

    def test_ping_and_changed_host_key(self, cli, runner) -> None:
        """A host whose key changed is refused (never re-pinned) and quarantined."""
        assert cli("runner", "ping", "box").status == 0
        runner.restart_sshd(new_host_key=True)
        result = cli("runner", "ping", "box", "--json")
        assert result.status == 1
        [row] = result.json()["runners"]
        assert "CHANGED" in row["error"]
        shown = cli("runner", "show", "box", "--json").json()
        assert shown["state"] == "quarantined" and "ping failed" in shown["state_reason"]
        refused = cli("run", "examples/quickstart.yaml", "--runner", "box")
        assert refused.status == 3 and "quarantined" in refused.err
        assert cli("runner", "release", "box").status == 0

    def test_link_down_mid_run_fails_cleanly(self, cli, runner, write_job) -> None:
        """The link dies while a job runs: an error within the keepalive, not a hang."""
        job = write_job(
            "name: slow\nbenchmarks:\n  - {name: s, command: 'sleep 1', "
            "format: time}\nrepetitions: {warmup: 0, runs: 30}\n"
        )
        timer = threading.Timer(2.5, runner.link_down)
        timer.start()
        try:
            start = time.monotonic()
            result = cli("run", str(job), "--runner", "box", "--json")
            took = time.monotonic() - start
        finally:
            timer.cancel()
            runner.link_up()
        [run] = cli("results", "list", "--json").json()["runs"]
        # the runner was gone when the run ended, so its workspace stayed there (this
        # host's /tmp is the test machine's): the test removes what it left
        for left in ("work", "run"):
            shutil.rmtree(f"/tmp/perflab-{left}-{run['run_id']}", ignore_errors=True)
        assert result.status == 1, result.err
        assert took < 25
        assert run["status"] == "failed"
        shown = cli("results", "show", run["run_id"], "--json").json()
        assert "lost" in shown["message"] or "connection" in shown["message"]


def marked(marker: str) -> list[int]:
    """Processes (fleet hosts share this machine's pids) with ``marker`` in their argv."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def start_run(job: Path, *argv: str) -> subprocess.Popen[str]:
    """`perflab run` in a process of its own (same PERFLAB_HOME as the cli fixture)."""
    return subprocess.Popen(
        [sys.executable, "-m", "perflab", "run", str(job), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def measuring(home: Path, proc: subprocess.Popen[str], timeout: float = 60) -> str:
    """The run id once a repetition was measured."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for journal in (home / "runs").glob("*/events.jsonl"):
            if '"kind": "run"' in journal.read_text():
                return journal.parent.name
        time.sleep(0.05)
    raise AssertionError(f"nothing measured: {proc.communicate(timeout=30)}")


class TestSettingsReachTheRun:
    @pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
    def test_housekeeping_and_platform(self, cli, fleet, write_job, tmp_path) -> None:
        """The runner's perflab_housekeeping_cpus decides where an unprepared run's
        reserved CPUs are, and its registered platform is the run's platform."""
        host = fleet.host(f"hk{time.monotonic_ns() % 10**9}")
        result = add(
            cli,
            host,
            "hk",
            "--accept-new-host-key",
            "--platform",
            "linux-x86_64-lab",
            "--var",
            "perflab_housekeeping_cpus=1",
            "--var",
            f"perflab_state_dir={tmp_path}/state",
        )
        assert result.status == 0, result.err
        job = write_job(
            "name: hk\nbenchmarks:\n  - {name: t, command: ['true'], format: time}"
            "\nrepetitions: {warmup: 0, runs: 1}\npin: {cpus: reserved}\n"
        )
        run = cli("run", str(job), "--runner", "hk", "--json")
        assert run.status == 0, run.err
        doc = run.json()
        assert doc["platform"] == "linux-x86_64-lab"
        assert doc["tuning"]["cpus"] == "0", "CPU 1 keeps house: CPU 0 is the reserved one"


class TestEveryEnding:
    def test_one_job_at_a_time_and_sigterm(self, cli, runner, write_job, home) -> None:
        """A second run on a busy SSH runner is refused (the lock is on the host); SIGTERM
        stops the benchmark on the runner and ends the run interrupted, status 143."""
        marker = f"perflab-ssh-{runner.name}"
        job = write_job(
            f"name: slow\nbenchmarks:\n  - {{name: s, command: [sh, -c, 'sleep 0.3', "
            f"{marker}], format: time}}\nrepetitions: {{warmup: 0, runs: 100}}\n"
        )
        first = start_run(job, "--runner", "box")
        try:
            run_id = measuring(home, first)
            busy = cli("run", str(job), "--runner", "box")
            assert busy.status == 1
            assert f"runner box is busy: run {run_id} (pid {first.pid} on " in busy.err
            first.send_signal(signal.SIGTERM)
            _, err = first.communicate(timeout=60)
        finally:
            first.kill()
        assert first.returncode == 143, err
        assert marked(marker) == [], "the benchmark stopped on the runner"
        shown = cli("results", "show", run_id, "--json").json()
        assert shown["status"] == "interrupted"

    def test_controller_killed_stops_the_remote_benchmark(
        self, cli, runner, write_job, home
    ) -> None:
        """SIGKILL of the controller: the SSH session ends, the harness on the runner sees
        its stdin close and stops the benchmark; the lock on the runner goes too."""
        marker = f"perflab-kill-{runner.name}"
        job = write_job(
            f"name: slow\nbenchmarks:\n  - {{name: s, command: [sh, -c, 'sleep 0.3', "
            f"{marker}], format: time}}\nrepetitions: {{warmup: 0, runs: 100}}\n"
        )
        first = start_run(job, "--runner", "box")
        try:
            dead = measuring(home, first)
        finally:
            first.kill()
            first.communicate(timeout=30)
        deadline = time.monotonic() + 15
        while marked(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marked(marker) == [], "no benchmark left running on the runner"
        quick = write_job(
            "name: q\nbenchmarks:\n  - {name: q, command: ['true'], format: time}\n"
            "repetitions: {warmup: 0, runs: 1}\n",
            name="q.yaml",
        )
        after = cli("run", str(quick), "--runner", "box", "--lock-wait", "15", "--json")
        assert after.status == 0, after.err
        assert cli("results", "show", dead, "--json").json()["status"] == "failed"


class TestFanOut:
    def test_facts_all_with_one_host_down(self, cli, fleet) -> None:
        """Many hosts at once; one failing is reported by name and never stops the others."""
        hosts = [fleet.host(f"fan-{i}") for i in range(3)]
        for i, host in enumerate(hosts):
            assert add(cli, host, f"f{i}", "--accept-new-host-key", "--group", "g").status == 0
        hosts[1].link_down()
        try:
            result = cli("runner", "facts", "--group", "g", "--forks", "3", "--json")
        finally:
            hosts[1].link_up()
        assert result.status == 1
        rows = {r["runner"]: r for r in result.json()["runners"]}
        assert rows["f0"]["ok"] and rows["f2"]["ok"]
        assert not rows["f1"]["ok"] and rows["f1"]["error"]

    def test_import_then_list_group(self, cli, fleet, tmp_path: Path) -> None:
        """An inventory registers runners without connecting; groups are kept. A port the
        inventory does not set stays unset (the SSH config's Port, else 22, applies)."""
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            json.dumps(
                {
                    "all": {
                        "children": {
                            "linux": {
                                "hosts": {
                                    "n1": {
                                        "ansible_host": "127.0.0.41",
                                        "perflab_platform": "linux-x86_64",
                                    },
                                    "n2": {"ansible_host": "127.0.0.42", "ansible_port": 2222},
                                }
                            }
                        }
                    }
                }
            )
        )
        result = cli("runner", "import", str(inventory), "--json")
        assert result.status == 0, result.err
        assert result.json() == {"added": ["n1", "n2"], "updated": [], "notes": []}
        rows = cli("runner", "list", "--group", "linux", "--json").json()["runners"]
        assert [(r["name"], r["port"], r["platform"]) for r in rows] == [
            ("n1", None, "linux-x86_64"),
            ("n2", 2222, None),
        ]
        again = cli("runner", "import", str(inventory), "--json").json()
        assert again == {"added": [], "updated": ["n1", "n2"], "notes": []}

    def test_import_with_a_cycle_registers_nothing(self, cli, tmp_path: Path) -> None:
        """A cycle in children: exit 3 naming it, nothing half-registered."""
        inventory = tmp_path / "bad.yml"
        inventory.write_text(
            "all:\n  children:\n    a:\n      children:\n        b:\n"
            "          children:\n            a: {}\n"
        )
        result = cli("runner", "import", str(inventory))
        assert result.status == 3 and "a -> b -> a" in result.err
        assert [r["name"] for r in cli("runner", "list", "--json").json()["runners"]] == ["local"]


class TestPrepareFleet:
    def test_prepare_group_check_and_restore_group(self, cli, fleet, tmp_path: Path) -> None:
        """prepare --group --check on several hosts: a per-host result, nothing changed;
        restore --group: nothing to restore on any of them."""
        profile = tmp_path / "p.yml"
        profile.write_text("name: p\ntasks:\n  - swappiness: {value: 7}\n  - aslr: {value: 2}\n")
        before = Path("/proc/sys/vm/swappiness").read_text()
        hosts = [fleet.host(f"prep-{i}") for i in range(2)]
        for i, host in enumerate(hosts):
            assert (
                add(
                    cli,
                    host,
                    f"p{i}",
                    "--accept-new-host-key",
                    "--group",
                    "pg",
                    "--var",
                    f"perflab_state_dir={tmp_path}/state-{i}",
                ).status
                == 0
            )
        result = cli("prepare", "--group", "pg", "--profile", str(profile), "--check", "--json")
        assert result.status == 2, result.err  # changes pending, as for a single runner
        rows = result.json()["runners"]
        assert [r["runner"] for r in rows] == ["p0", "p1"] and all(r["ok"] for r in rows)
        assert all(r["result"]["mode"] == "check" and r["result"]["changed"] == 1 for r in rows)
        assert Path("/proc/sys/vm/swappiness").read_text() == before, "check changes nothing"
        restored = cli("restore", "--group", "pg", "--json").json()["runners"]
        assert all(r["ok"] and r["result"]["nothing_to_restore"] for r in restored)

    def test_prepare_with_facts_stores_what_runner_facts_would(
        self, cli, fleet, tmp_path: Path
    ) -> None:
        """prepare --facts gathers the platform facts in its first probe and stores them:
        the same facts as `runner facts` gathers on its own."""
        profile = tmp_path / "p.yml"
        profile.write_text("name: p\ntasks:\n  - swappiness: {value: 7}\n")
        host = fleet.host("prep-facts")
        assert (
            add(
                cli,
                host,
                "pf",
                "--accept-new-host-key",
                "--var",
                f"perflab_state_dir={tmp_path}/state",
            ).status
            == 0
        )
        assert cli("runner", "show", "pf", "--json").json()["facts"] in (None, {})
        result = cli("prepare", "pf", "--profile", str(profile), "--check", "--facts", "--json")
        assert result.status == 2, result.err
        via_prepare = result.json()["facts"]
        stored = cli("runner", "show", "pf", "--json").json()
        assert stored["facts"] == via_prepare and stored["platform"] == via_prepare["platform"]
        [row] = cli("runner", "facts", "pf", "--json").json()["runners"]
        alone = row["result"]
        volatile = ("memory_bytes",)
        assert {k: v for k, v in via_prepare.items() if k not in volatile} == {
            k: v for k, v in alone.items() if k not in volatile
        }
        assert via_prepare["cpu"]["count"] >= 1 and via_prepare["knobs"]["swappiness"]
