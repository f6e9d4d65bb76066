"""Queue faults with SSH runners (network namespaces this session made) and a database
that goes away for a moment."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jobqueue.conftest import Lab, free_port, write_job
from tests.store.conftest import pg_url  # noqa: F401 (fixture)

pytestmark = pytest.mark.root


def register(lab: Lab, host, name: str, group: str) -> None:
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
        group,
        "--var",
        "perflab_keepalive=1",
        "--var",
        "perflab_connect_timeout=2",
        "--var",
        f"perflab_state_dir={lab.tmp}/state-{name}",
    )
    assert done.returncode == 0, done.stderr


class TestRunnerCutOff:
    def test_group_job_retried_elsewhere_runner_offline(
        self, lab: Lab, fleet, tmp_path: Path
    ) -> None:
        """The link of the runner running a group job goes down: the attempt fails as
        runner_unreachable, the job runs again on the group's other runner, and the lost
        runner is marked offline after repeated failed attempts to reach it."""
        tag = f"{time.monotonic_ns() % 10**8}"
        hosts = {f"cut{i}": fleet.host(f"cut{i}-{tag}") for i in range(2)}
        for name, host in hosts.items():
            register(lab, host, name, "cutlab")
        lab.worker("--group", "cutlab")
        # each repetition sleeps while the marker exists: the first attempt is still running
        # when its link goes down, the second (after the marker is gone) takes a second, not 30
        marker = tmp_path / "slow"
        marker.touch()
        command = f"[sh, -c, 'if [ -e {marker} ]; then sleep 0.3; fi']"
        job_id = lab.submit(write_job(tmp_path, "cut", command, runs=100), "--group", "cutlab")
        first = lab.wait_for(job_id, ("running",))
        lost = first["runner"]
        hosts[lost].link_down()
        marker.unlink()
        try:
            done = lab.wait_for(job_id, ("done", "failed"), timeout=240)
            assert done["state"] == "done", (done["message"], done["events"])
            assert done["runner"] != lost and done["attempt"] == 2
            reasons = [e["reason"] for e in done["events"] if e["reason"]]
            assert "runner_unreachable" in reasons
            dead = lab.run_doc(done["run_ids"][0])
            assert dead["status"] == "failed"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                row = json.loads(lab.perflab("runner", "show", lost, "--json").stdout)
                if row["state"] == "offline":
                    break
                time.sleep(1)
            assert row["state"] == "offline" and "unreachable" in row["state_reason"]
        finally:
            hosts[lost].link_up()


class TestCancelDuringCollection:
    def test_cancel_while_artifacts_come_back(self, lab: Lab, fleet, tmp_path: Path) -> None:
        """jobs cancel while a job's 3,000 artifacts come back over SFTP: the collection
        stops, the run ends interrupted with what was measured, the job cancelled, the
        runner let go."""
        host = fleet.host(f"coll-{time.monotonic_ns() % 10**8}")
        register(lab, host, "coll", "colllab")
        make = "mkdir -p out; i=0; while [ $i -lt 3000 ]; do echo $i > out/f$i; i=$((i+1)); done"
        job = write_job(
            tmp_path, "coll", f"[sh, -c, '{make}']", runs=1, extra='artifacts: ["out/*"]\n'
        )
        lab.worker("--runner", "coll")
        job_id = lab.submit(job, "--runner", "coll")
        lab.wait_for(job_id, ("collecting", "done", "failed"), timeout=120)
        assert lab.perflab("jobs", "cancel", job_id).returncode == 0
        done = lab.wait_for(job_id, ("cancelled", "done", "failed"), timeout=120)
        assert done["state"] == "cancelled", (done["message"], done["events"])
        assert "collecting" in [e["state"] for e in done["events"]], done["events"]
        assert done["run_ids"], done
        run = lab.run_doc(done["run_ids"][0])
        assert run["status"] == "interrupted"
        assert len(run["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 1
        assert len(run["artifacts"]) < 3000, "the collection was stopped"
        status = json.loads(lab.perflab("status", "--json").stdout)
        assert next(r for r in status["runners"] if r["name"] == "coll")["state"] == "idle"


class Proxy:
    """A TCP proxy to PostgreSQL that the test can cut: established connections are
    dropped and new ones refused while it is down."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.down = threading.Event()
        self.stop = threading.Event()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.server.settimeout(0.1)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not self.down.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        for sock in (a, b):
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self, seconds: float) -> None:
        self.down.set()
        time.sleep(seconds)
        with self.lock:
            self.pairs.clear()
        self.down.clear()

    def close(self) -> None:
        self.stop.set()
        self.server.close()


@pytest.fixture
def proxied_pg(pg_url: str) -> Iterator[tuple[str, Proxy]]:
    proxy = Proxy(("127.0.0.1", 5432))
    try:
        yield pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), proxy
    finally:
        proxy.close()


class TestDatabaseAway:
    def test_worker_retries_nothing_lost(
        self, lab: Lab, tmp_path: Path, proxied_pg: tuple[str, Proxy]
    ) -> None:
        """The database drops every connection and refuses new ones for 3 s while a
        worker runs and reports a job: the worker tries again, the job ends done with
        every sample."""
        url, proxy = proxied_pg
        lab.env["PERFLAB_DB_URL"] = url
        try:
            lab.worker()
            job_id = lab.submit(write_job(tmp_path, "db", "[sleep, '0.2']", runs=30))
            lab.wait_for(job_id, ("running", "failed"))
            time.sleep(1)
            proxy.cut(3.0)
            done = lab.wait_for(job_id, ("done", "failed"), timeout=180)
            assert done["state"] == "done", done
            [run_id] = done["run_ids"]
            run = lab.run_doc(run_id)
            assert len(run["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 30
            assert "the database is away" in lab.logs()
        finally:
            lab.stop()
            lab.env.pop("PERFLAB_DB_URL")
