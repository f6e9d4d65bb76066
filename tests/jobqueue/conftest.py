"""A lab for queue tests: a redis-server of the test's own on a free port, real
`perflab worker` processes, and the CLI run as separate processes, all sharing one
PERFLAB_HOME (the store) and one state dir (the local runner's host lock)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SESSION_TAG

REQUIRE = os.environ.get("PERFLAB_REQUIRE_ALL") == "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Redis:
    """A redis-server this test started (and only this test stops)."""

    def __init__(self, folder: Path, *, persistent: bool) -> None:
        self.folder, self.persistent = folder, persistent
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--logfile",
            "redis.log",
            "--appendonly",
            "yes" if self.persistent else "no",
        ]
        self.proc = subprocess.Popen(argv, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    if shutil.which("redis-server") is None:
        if REQUIRE:
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = Redis(tmp_path, persistent=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Lab:
    """The CLI and workers of one test, with their environment."""

    def __init__(self, tmp_path: Path, redis: Redis) -> None:
        self.tmp = tmp_path
        self.redis = redis
        self.home = tmp_path / "home"
        self.env = {
            **os.environ,
            "PERFLAB_HOME": str(self.home),
            "PERFLAB_BROKER_URL": redis.url,
            "PERFLAB_DB_URL": "",
            "PERFLAB_STATE_DIR": str(tmp_path / "state"),
            "PERFLAB_PREFIX": f"{SESSION_TAG}q{os.getpid() % 1000}",
            "PERFLAB_LEASE_TTL": "4",
            "PERFLAB_LOCK_WAIT": "0",
        }
        self.env.pop("PERFLAB_DB_URL")
        self.workers: list[tuple[subprocess.Popen[bytes], Path]] = []

    def perflab(
        self, *argv: str, timeout: float = 180, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "perflab", *argv],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start_perflab(self, *argv: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "perflab", *argv],
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def worker(self, *argv: str, **env: str) -> subprocess.Popen[bytes]:
        """A `perflab worker` in a session of its own, ready when this returns."""
        log = self.tmp / f"worker-{len(self.workers)}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "perflab",
                "worker",
                "--reconcile-interval",
                "1",
                "--republish-after",
                "2",
                *(argv or ("--runner", "local")),
            ],
            env={**self.env, **env},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append((proc, log))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if " ready." in log.read_text(errors="replace"):
                return proc
            if proc.poll() is not None:
                raise AssertionError(f"the worker ended: {log.read_text()}")
            time.sleep(0.1)
        raise AssertionError(f"the worker did not start: {log.read_text()}")

    def logs(self) -> str:
        return "\n".join(log.read_text(errors="replace") for _, log in self.workers)

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker and every process of its session (a machine that died)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def submit(self, job: Path, *argv: str) -> str:
        done = self.perflab("submit", str(job), "--json", *argv)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["job_id"])

    def job(self, job_id: str) -> dict[str, Any]:
        done = self.perflab("jobs", "show", job_id, "--json")
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def wait_for(self, job_id: str, states: tuple[str, ...], timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["state"] in states:
                return job
            time.sleep(0.3)
        raise AssertionError(
            f"job {job_id} is still {job['state']}, not {states}:\n{self.logs()[-3000:]}"
        )

    def run_doc(self, run_id: str) -> dict[str, Any]:
        done = self.perflab("results", "show", run_id, "--json")
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def stop(self) -> None:
        for proc, _ in self.workers:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc, _ in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(proc)


@pytest.fixture
def lab(tmp_path: Path, redis: Redis) -> Iterator[Lab]:
    made = Lab(tmp_path, redis)
    try:
        yield made
    finally:
        made.stop()
        restored = made.perflab("restore", "local")
        assert restored.returncode == 0, restored.stderr


def write_job(folder: Path, name: str, command: str, *, runs: int = 3, extra: str = "") -> Path:
    """A job file in a folder of its own (its workdir, frozen into the bundle)."""
    where = folder / name
    where.mkdir(parents=True, exist_ok=True)
    path = where / "job.yaml"
    path.write_text(
        f"name: {name}\nbenchmarks:\n  - name: b\n    command: {command}\n"
        f"    format: time\nrepetitions: {{warmup: 0, runs: {runs}}}\n{extra}"
    )
    return path


def marked(marker: str) -> list[int]:
    """Processes whose command line carries ``marker`` (this test's benchmarks only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
