"""The job queue end to end: submit, workers, jobs, cancel, status; bad input."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.jobqueue.conftest import Lab, free_port, marked, write_job


class TestSubmit:
    def test_submit_wait_follows_to_done(self, lab: Lab, tmp_path: Path) -> None:
        """submit --wait: the job is frozen, run by a worker on its runner, and the command
        exits with the job's status; jobs show has the state names and the run ids."""
        lab.worker()
        job = write_job(tmp_path, "ok", "[sh, -c, 'cat data.txt']", runs=3)
        (job.parent / "data.txt").write_text("frozen with the job\n")
        done = lab.perflab("submit", str(job), "--wait", "--json")
        assert done.returncode == 0, done.stderr + lab.logs()[-2000:]
        shown = json.loads(done.stdout)
        assert shown["state"] == "done" and shown["exit_status"] == 0
        assert [e["state"] for e in shown["events"]] == [
            "queued",
            "leased",
            "preparing",
            "running",
            "collecting",
            "done",
        ]
        [run_id] = shown["run_ids"]
        run = lab.run_doc(run_id)
        assert run["status"] == "completed" and run["runner"] == "local"
        assert len(run["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 3
        out = Path(run["repetitions"][0]["stdout_path"]).read_text()
        assert out == "frozen with the job\n", "the workdir travelled in the bundle"
        listed = json.loads(lab.perflab("jobs", "list", "--json").stdout)["jobs"]
        assert [j["job_id"] for j in listed] == [shown["job_id"]]
        logs = lab.perflab("jobs", "logs", shown["job_id"])
        assert logs.returncode == 0, logs.stderr
        assert "done" in logs.stdout and f"--- run {run_id} ---" in logs.stdout
        assert logs.stdout.count("frozen with the job") == 3, "every step's stdout, once"

    def test_the_bundle_does_not_depend_on_the_submitters_files(
        self, lab: Lab, tmp_path: Path
    ) -> None:
        """The job file and workdir are removed after submit: the worker runs what was
        submitted; the same job submitted twice is one bundle."""
        job = write_job(tmp_path, "gone", "[sh, -c, 'cat data.txt']", runs=1)
        (job.parent / "data.txt").write_text("v1\n")
        first = lab.submit(job)
        second = lab.submit(job)
        for path in job.parent.iterdir():
            path.unlink()
        job.parent.rmdir()
        lab.worker()
        runs = [lab.wait_for(j, ("done", "failed"))["run_ids"][0] for j in (first, second)]
        outs = [Path(lab.run_doc(r)["repetitions"][0]["stdout_path"]).read_text() for r in runs]
        assert outs == ["v1\n", "v1\n"]
        assert lab.job(first)["bundle"] == lab.job(second)["bundle"]

    def test_a_failing_benchmark_fails_the_job(self, lab: Lab, tmp_path: Path) -> None:
        """A benchmark that fails: the job is failed (benchmark_failed), exit status 1."""
        lab.worker()
        job = write_job(tmp_path, "bad", "[sh, -c, 'exit 4']", runs=1)
        done = lab.perflab("submit", str(job), "--wait", "--json")
        assert done.returncode == 1
        shown = json.loads(done.stdout)
        assert shown["state"] == "failed" and shown["reason"] == "benchmark_failed"

    def test_status_shows_runner_queue_and_workers(self, lab: Lab, tmp_path: Path) -> None:
        """With no worker, a submitted job waits queued; status counts it, and shows the
        worker once one runs."""
        job_id = lab.submit(write_job(tmp_path, "waits", "['true']", runs=1))
        status = json.loads(lab.perflab("status", "--json").stdout)
        assert status["queued"] == [{"kind": "runner", "target": "local", "queued": 1}]
        assert status["workers"]["alive"] == []
        lab.worker()
        lab.wait_for(job_id, ("done",))
        status = json.loads(lab.perflab("status", "--json").stdout)
        assert len(status["workers"]["alive"]) == 1 and status["queued"] == []
        local = next(r for r in status["runners"] if r["name"] == "local")
        assert local["state"] == "idle"


class TestCancel:
    @pytest.mark.parametrize("phase", ["setup", "run"])
    def test_cancel_reaches_the_host(self, lab: Lab, tmp_path: Path, phase: str) -> None:
        """jobs cancel during setup or the run: the worker stops the process group on the
        runner within seconds, keeps what was measured, releases the runner."""
        marker = f"perflab-cancel-{phase}-{os.getpid()}"
        setup = f"setup:\n  - {{run: 'sleep 30 # {marker}'}}\n" if phase == "setup" else ""
        job = write_job(
            tmp_path, f"c{phase}", f"[sh, -c, 'sleep 0.3', {marker}]", runs=200, extra=setup
        )
        lab.worker()
        job_id = lab.submit(job)
        lab.wait_for(job_id, ("running",))
        deadline = time.monotonic() + 30
        while not marked(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marked(marker), "the job's process is running"
        assert lab.perflab("jobs", "cancel", job_id).returncode == 0
        shown = lab.wait_for(job_id, ("cancelled", "failed", "done"), timeout=60)
        assert shown["state"] == "cancelled" and shown["reason"] == "cancelled"
        assert marked(marker) == [], "stopped on the runner"
        [run_id] = shown["run_ids"]
        assert lab.run_doc(run_id)["status"] == "interrupted"
        status = json.loads(lab.perflab("status", "--json").stdout)
        assert next(r for r in status["runners"] if r["name"] == "local")["state"] == "idle"

    def test_cancel_queued_and_finished(self, lab: Lab, tmp_path: Path) -> None:
        """A queued job is cancelled at once; cancelling it again is exit 3; retry queues
        it again and a worker runs it."""
        job_id = lab.submit(write_job(tmp_path, "q", "['true']", runs=1))
        assert lab.perflab("jobs", "cancel", job_id).returncode == 0
        assert lab.job(job_id)["state"] == "cancelled"
        again = lab.perflab("jobs", "cancel", job_id)
        assert again.returncode == 3 and "cancelled already" in again.stderr
        assert lab.perflab("jobs", "retry", job_id).returncode == 0
        lab.worker()
        assert lab.wait_for(job_id, ("done",))["attempt"] == 1


class TestBadInput:
    def test_targets_ids_and_jobs(self, lab: Lab, tmp_path: Path) -> None:
        """Each a one-line error, exit 3, nothing queued: an unknown runner, a group or
        platform with no runner, an invalid job; unknown job ids."""
        job = write_job(tmp_path, "t", "['true']", runs=1)
        for argv, text in (
            (("--runner", "nosuch"), 'unknown runner "nosuch"'),
            (("--group", "g"), 'no runner in group "g"'),
            (("--platform", "plan9-mips"), "no runner in platform"),
        ):
            done = lab.perflab("submit", str(job), *argv)
            assert done.returncode == 3 and text in done.stderr, done.stderr
        bad = write_job(tmp_path, "inv", "['true']", runs=0)
        done = lab.perflab("submit", str(bad))
        assert done.returncode == 3 and "repetitions.runs" in done.stderr
        assert json.loads(lab.perflab("jobs", "list", "--json").stdout)["jobs"] == []
        for argv in (
            ("jobs", "show", "feedbeef"),
            ("jobs", "cancel", "feedbeef"),
            ("jobs", "logs", "feedbeef"),
        ):
            done = lab.perflab(*argv)
            assert done.returncode == 3 and 'no job "feedbeef"' in done.stderr

    def test_workdir_over_the_bundle_limit(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A workdir over the bundle limit is refused at submit (exit 3, the limit and what
        to do), before anything is stored or sent."""
        import io

        from perflab.cli.main import run_cli
        from tests.cli.conftest import Env

        monkeypatch.setattr("perflab.queue.bundle.MAX_UPLOAD_BYTES", 1000)
        monkeypatch.setenv("PERFLAB_HOME", str(tmp_path / "home"))
        job = write_job(tmp_path, "big", "['true']", runs=1)
        (job.parent / "data.bin").write_bytes(b"x" * 2000)
        env = Env(stdout=io.StringIO(), stderr=io.StringIO())
        status = run_cli(["submit", str(job), "--json"], env)
        err = env.stderr.getvalue()  # type: ignore[attr-defined]
        assert status == 3 and "over the bundle limit" in err and "workdir" in err

    def test_broker_that_cannot_be_reached(self, lab: Lab, tmp_path: Path) -> None:
        """A broker nobody listens on, and one that accepts and never answers: exit 1,
        one line naming the URL and how to start Redis, no traceback, nothing queued."""
        import socket
        import threading

        job = write_job(tmp_path, "b", "['true']", runs=1)
        url = f"redis://127.0.0.1:{free_port()}/0"
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        mute = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        held: list[socket.socket] = []
        threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True).start()
        try:
            for broker in (url, mute):
                start = time.monotonic()
                done = lab.perflab("submit", str(job), PERFLAB_BROKER_URL=broker)
                assert done.returncode == 1, done.stderr
                assert broker in done.stderr and "redis-server" in done.stderr
                assert "Traceback" not in done.stderr and time.monotonic() - start < 30
        finally:
            silent.close()
        assert json.loads(lab.perflab("jobs", "list", "--json").stdout)["jobs"] == []


class TestTimeLimit:
    def test_an_attempt_stuck_outside_the_harness_is_stopped(
        self, lab: Lab, tmp_path: Path
    ) -> None:
        """An attempt past its time limit (the job's timeout and a margin for preparing
        and collecting) is stopped by its worker's watchdog wherever it is, here waiting
        for a host lock someone else holds: failed, timed_out, the runner let go."""
        from perflab.prepare.host import RunnerHost
        from perflab.prepare.lock import host_lock
        from perflab.transport.local import LocalTransport

        job = write_job(tmp_path, "slow", "['true']", runs=1, extra="timeout: {job: 1s}\n")
        lab.worker(PERFLAB_ATTEMPT_MARGIN_S="2")
        host = RunnerHost(
            "local", LocalTransport(), {"perflab_state_dir": lab.env["PERFLAB_STATE_DIR"]}
        )
        with host_lock(host, "a test holding the runner"):
            job_id = lab.submit(job)
            done = lab.wait_for(job_id, ("failed", "done"), timeout=60)
        assert done["state"] == "failed" and done["reason"] == "timed_out", done
        assert "stopped after 3 s" in done["message"]
        status = json.loads(lab.perflab("status", "--json").stdout)
        assert next(r for r in status["runners"] if r["name"] == "local")["state"] == "idle"


def test_a_stop_signal_pickles_by_its_number() -> None:
    """A job stopped by the watchdog's signal may surface in the worker's pool as an
    exception that crosses processes: it pickles by its signal's number."""
    import pickle
    import signal

    from perflab.signals import Terminated

    again = pickle.loads(pickle.dumps(Terminated(signal.SIGUSR2)))
    assert isinstance(again, Terminated) and again.signum == signal.SIGUSR2
