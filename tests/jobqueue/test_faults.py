"""Faults caused on purpose, with real processes: a worker killed mid-job, a message
delivered twice, Redis restarted, workers and a direct run racing for one runner."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest

from tests.jobqueue.conftest import Lab, marked, write_job
from tests.prepare.conftest import leftovers, needs_root_cgroups

SHIELD = "name: s\ntasks:\n  - cpuset_shield: {cpus: reserved}\n"


class TestWorkerKilled:
    @needs_root_cgroups
    @pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
    def test_job_ends_exactly_once_and_the_host_is_restored(self, lab: Lab, tmp_path: Path) -> None:
        """SIGKILL of a worker (its whole session) mid-job with a profile: the benchmark
        stops, the lease expires, the job is queued again and run once more to the end by
        the other worker, which finds and restores the dead attempt's preparation first;
        one completed run, the dead one closed; nothing left on the host."""
        marker = f"perflab-killed-{os.getpid()}"
        # The first attempt waits at its first repetition while the hold file exists, so
        # the test sees it running however slow this machine is; the second one runs.
        hold = tmp_path / marker
        hold.touch()
        job = write_job(
            tmp_path,
            "k",
            f"[sh, -c, 'while [ -e \"$0\" ]; do sleep 0.05; done; sleep 0.2', {hold}]",
            runs=25,
            extra="profile: shield.yml\n",
        )
        (job.parent / "shield.yml").write_text(SHIELD)
        doomed = lab.worker()
        job_id = lab.submit(job, "--profile", str(job.parent / "shield.yml"))
        first = lab.wait_for(job_id, ("running",))
        deadline = time.monotonic() + 30
        while not marked(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers(lab.env["PERFLAB_PREFIX"]), "the shield is up"
        lab.kill(doomed)
        deadline = time.monotonic() + 10
        while marked(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marked(marker) == [], "the harness stopped the benchmark"
        hold.unlink()
        lab.worker()
        done = lab.wait_for(job_id, ("done", "failed"), timeout=180)
        assert done["state"] == "done", done
        assert done["attempt"] == 2 and len(done["run_ids"]) == 2
        dead, alive = (lab.run_doc(r) for r in done["run_ids"])
        assert alive["status"] == "completed"
        assert len(alive["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 25
        assert dead["status"] == "failed" and dead["run_id"] == first["run_ids"][0]
        assert alive["tuning"]["profile"] == "s", "measured in a shield of its own"
        assert [e["state"] for e in done["events"]].count("done") == 1
        assert leftovers(lab.env["PERFLAB_PREFIX"]) == []
        assert not (tmp_path / "state" / "state.json").exists()


class TestDeliveredTwice:
    def test_one_execution(self, lab: Lab, tmp_path: Path) -> None:
        """Redis gives a message again after a short visibility timeout while its job
        runs: the second delivery finds the job started and does nothing; one lease, one
        run."""
        env = {"PERFLAB_VISIBILITY_TIMEOUT": "1"}
        lab.worker(**env)
        lab.worker(**env)
        job_id = lab.submit(write_job(tmp_path, "twice", "[sleep, '0.5']", runs=12))
        done = lab.wait_for(job_id, ("done", "failed"), timeout=120)
        assert done["state"] == "done" and len(done["run_ids"]) == 1
        assert [e["state"] for e in done["events"]].count("leased") == 1
        received = lab.logs().count(" received")
        assert received >= 2, "the message was delivered more than once"
        assert "nothing to do: " in lab.logs()


class TestRedisRestarted:
    def test_no_job_lost(self, lab: Lab, tmp_path: Path) -> None:
        """Jobs are queued, then Redis restarts with nothing kept: a worker's reconciler
        sends their messages again and every job runs once."""
        ids = [lab.submit(write_job(tmp_path, f"r{i}", "['true']", runs=1)) for i in range(3)]
        lab.redis.restart()
        lab.worker()
        jobs = [lab.wait_for(j, ("done", "failed"), timeout=120) for j in ids]
        assert [j["state"] for j in jobs] == ["done"] * 3
        assert all(len(j["run_ids"]) == 1 for j in jobs)


class TestRace:
    def test_never_two_at_once_on_one_runner(self, lab: Lab, tmp_path: Path) -> None:
        """Two workers and a direct `perflab run` race for the local runner: the times
        each benchmark held it, recorded on the runner itself, never overlap."""
        spans = tmp_path / "spans.txt"
        command = (
            f"[sh, -c, 'echo start $(date +%s.%N) $PERFLAB_RUN_ID >> {spans}; "
            f"sleep 0.2; echo end $(date +%s.%N) $PERFLAB_RUN_ID >> {spans}']"
        )
        lab.worker()
        lab.worker()
        ids = [lab.submit(write_job(tmp_path, f"q{i}", command, runs=3)) for i in range(4)]
        direct = lab.start_perflab(
            "run", str(write_job(tmp_path, "d", command, runs=3)), "--lock-wait", "120"
        )
        _, err = direct.communicate(timeout=180)
        assert direct.returncode == 0, err
        for job_id in ids:
            assert lab.wait_for(job_id, ("done", "failed"), timeout=180)["state"] == "done"
        events = [line.split() for line in spans.read_text().splitlines()]
        held: dict[str, list[float]] = {}
        for _kind, when, run in events:
            held.setdefault(run, []).append(float(when))
        intervals = sorted((min(v), max(v)) for v in held.values())
        assert len(intervals) == 5
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert end <= start, f"two runs overlapped on the runner: {intervals}"
