"""Sweeps end to end with real parts: SSH runners in network namespaces labelled as two
platforms (perflab_platform), a redis-server of the test's own, real `perflab worker` and
`perflab beat` processes, the schedule fired by RedBeat.

The schedule is an interval of a few seconds (`--every`): a cron expression cannot fire
more often than once a minute, and the cron path differs only in the schedule object
RedBeat evaluates (tests/sweeps/test_schedule.py checks that one against the clock)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.jobqueue.conftest import Lab, write_job

pytestmark = pytest.mark.root


def register(lab: Lab, host: Any, name: str, platform: str) -> None:
    done = lab.perflab(
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
        "--accept-new-host-key",
        "--group",
        "sweeplab",
        "--var",
        f"perflab_platform={platform}",
        "--var",
        "perflab_connect_timeout=5",
        "--var",
        f"perflab_state_dir={lab.tmp}/state-{name}",
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(lab.perflab("runner", "show", name, "--json").stdout)
    assert shown["platform"] == platform


class Beat:
    """A `perflab beat` in a session of its own (only this test stops it)."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.log = lab.tmp / f"beat-{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "perflab", "beat", "--max-interval", "1", "--loglevel", "DEBUG"],
            env=lab.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def history(lab: Lab, name: str) -> list[dict[str, Any]]:
    done = lab.perflab("sweep", "history", name, "--json")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["runs"])


def wait_for_runs(
    lab: Lab, name: str, *, finished: bool, timeout: float, beats: list[Beat]
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = history(lab, name)
        if runs and (not finished or runs[-1]["state"] == "finished"):
            return runs
        time.sleep(1)
    raise AssertionError(
        f"no {'finished ' if finished else ''}sweep run of {name}: "
        f"{history(lab, name)}\n{lab.logs()[-3000:]}\n" + "\n".join(b.text()[-2000:] for b in beats)
    )


class TestScheduledSweep:
    def test_two_platforms_one_fails_one_missing(self, lab: Lab, fleet, tmp_path: Path) -> None:
        """RedBeat fires the sweep; a worker starts a sweep run that queues the job for
        each platform: it runs on platform a, fails on platform b (its benchmark fails
        there), and platform c, which has no runner, is skipped with the reason. The sweep
        run finishes with every part recorded, and each run carries its sweep run's id."""
        tag = f"{time.monotonic_ns() % 10**8}"
        hosts = {"swa": fleet.host(f"swa-{tag}"), "swb": fleet.host(f"swb-{tag}")}
        register(lab, hosts["swa"], "swa", "linux-x86_64-a")
        register(lab, hosts["swb"], "swb", "linux-x86_64-b")
        # /proc/net/fib_trie lists the addresses of the reader's network namespace
        fails_on_b = f"[sh, -c, '! grep -qFw {hosts['swb'].address} /proc/net/fib_trie']"
        job = write_job(tmp_path, "swjob", fails_on_b, runs=2, extra="pin: {cpus: all}\n")
        lab.worker("--all")
        added = lab.perflab(
            "sweep",
            "add",
            "nightly",
            "--job",
            str(job),
            "--targets",
            "linux-x86_64-a,linux-x86_64-b,platform:linux-riscv64",
            "--every",
            "4",
            "--deadline",
            "120",
        )
        assert added.returncode == 0, added.stderr
        beat = Beat(lab, "one")
        try:
            first = wait_for_runs(lab, "nightly", finished=False, timeout=90, beats=[beat])
        finally:
            beat.stop()
        sweep_run_id = first[-1]["sweep_run_id"]
        runs = wait_for_runs(lab, "nightly", finished=True, timeout=240, beats=[beat])
        done = next(r for r in runs if r["sweep_run_id"] == sweep_run_id)
        assert done["state"] == "finished" and done["trigger"] == "schedule"
        assert done["outcome"] == "partial"
        parts = {p["platform"]: p for p in done["parts"]}
        assert set(parts) == {"linux-x86_64-a", "linux-x86_64-b", "linux-riscv64"}
        ran, failed, skipped = (
            parts["linux-x86_64-a"],
            parts["linux-x86_64-b"],
            parts["linux-riscv64"],
        )
        assert ran["state"] == "ran" and ran["exit_status"] == 0, ran
        assert failed["state"] == "failed" and failed["reason"] == "benchmark_failed", failed
        assert skipped["state"] == "skipped" and skipped["reason"] == "no_runner"
        assert skipped["message"] == "no runner of platform linux-riscv64 is registered"
        assert not skipped["job_id"] and not skipped["run_ids"]
        for part, runner in ((ran, "swa"), (failed, "swb")):
            [run_id] = part["run_ids"]
            run = lab.run_doc(run_id)
            assert run["sweep_run_id"] == sweep_run_id
            assert run["runner"] == runner and run["platform"] == part["platform"]
        assert lab.run_doc(ran["run_ids"][0])["status"] == "completed"
        assert lab.run_doc(failed["run_ids"][0])["status"] == "failed"
        text = lab.perflab("sweep", "history", "nightly").stdout
        assert "linux-riscv64: skipped no_runner: no runner of platform linux-riscv64" in text
        # the sweep run's report: the platform that ran, and the parts that did not, why
        report = lab.perflab("report", sweep_run_id, "--format", "md")
        assert report.returncode == 0, report.stderr
        assert "| linux-x86_64-b | failed | benchmark_failed" in report.stdout
        assert (
            "| linux-riscv64 | skipped | no_runner: no runner of platform linux-riscv64 "
            "is registered |"
        ) in report.stdout
        doc = json.loads(lab.perflab("report", sweep_run_id, "--format", "json").stdout)
        assert [p["platform"] for p in doc["platforms"]] == ["linux-x86_64-a"]
        assert doc["sweep"]["outcome"] == "partial" and doc["rows"], doc
        removed = lab.perflab("sweep", "remove", "nightly")
        assert removed.returncode == 0, removed.stderr
        assert history(lab, "nightly"), "a removed sweep's runs stay"


class TestMatrixSweepNow:
    def test_matrix_over_two_platforms_waits(self, lab: Lab, fleet, tmp_path: Path) -> None:
        """`sweep run --wait` of a job matrix (2 values) over a group of two platforms: four
        parts, each a run on its platform tagged with its matrix values; exit 0."""
        tag = f"{time.monotonic_ns() % 10**8}"
        register(lab, fleet.host(f"swm1-{tag}"), "swm1", "linux-x86_64-m1")
        register(lab, fleet.host(f"swm2-{tag}"), "swm2", "linux-x86_64-m2")
        job = write_job(
            tmp_path,
            "swmx",
            '[sh, -c, \'test "$PERFLAB_MATRIX_N" = "${{ matrix.n }}"\']',
            runs=1,
            extra="pin: {cpus: all}\nmatrix: {n: [1, 2]}\n",
        )
        assert "a matrix of 2 jobs" in lab.perflab("validate", str(job)).stdout
        lab.worker("--group", "sweeplab")
        added = lab.perflab(
            "sweep",
            "add",
            "mx",
            "--job",
            str(job),
            "--targets",
            "sweeplab",
            "--cron",
            "0 2 * * *",
            "--timezone",
            "Europe/Berlin",
        )
        assert added.returncode == 0, added.stderr
        shown = json.loads(lab.perflab("sweep", "show", "mx", "--json").stdout)
        assert shown["scheduled"]["next"], shown
        assert shown["targets"] == [{"kind": "group", "name": "sweeplab"}]
        done = lab.perflab("sweep", "run", "mx", "--wait", "--json", timeout=300)
        assert done.returncode == 0, (done.stdout, done.stderr, lab.logs()[-3000:])
        doc = json.loads(done.stdout)
        assert doc["state"] == "finished" and doc["outcome"] == "complete"
        cells = sorted((p["platform"], p["matrix"]["n"]) for p in doc["parts"])
        assert cells == [
            ("linux-x86_64-m1", "1"),
            ("linux-x86_64-m1", "2"),
            ("linux-x86_64-m2", "1"),
            ("linux-x86_64-m2", "2"),
        ]
        for part in doc["parts"]:
            [run_id] = part["run_ids"]
            run = lab.run_doc(run_id)
            assert run["matrix"] == part["matrix"] and run["platform"] == part["platform"]
            assert run["sweep_run_id"] == doc["sweep_run_id"]
        report = lab.perflab("report", doc["sweep_run_id"], "--format", "json")
        assert report.returncode == 0, report.stderr
        assert sorted(p["platform"] for p in json.loads(report.stdout)["platforms"]) == [
            "linux-x86_64-m1 [n=1]",
            "linux-x86_64-m1 [n=2]",
            "linux-x86_64-m2 [n=1]",
            "linux-x86_64-m2 [n=2]",
        ]
