"""The bench's lab: a redis-server of its own on a free port, a scratch store (SQLite
under a temporary PERFLAB_HOME, or a scratch PostgreSQL database it creates and drops),
`perflab` commands and workers run as a user runs them, and a raw Celery worker on the
same broker."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

#: the raw Celery peer: the same settings perflab's worker uses (acks late, prefetch 1,
#: no result backend, JSON), one no-op task that notes when it started
RAW_APP = """
import os, time
from celery import Celery

app = Celery("raw", broker=os.environ["RAW_BROKER_URL"], set_as_current=False)
app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True,
                worker_prefetch_multiplier=1, task_ignore_result=True,
                task_serializer="json", accept_content=["json"],
                worker_hijack_root_logger=False, task_default_queue="raw",
                broker_connection_retry_on_startup=True)


@app.task(name="raw.noop")
def noop(tag):
    with open(os.environ["RAW_LOG"], "a") as log:
        log.write("%s %r\\n" % (tag, time.time()))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    """Everything the bench starts, stopped (and the scratch database dropped) on exit."""

    def __init__(self, postgres: bool = False) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="perflab-bench-dispatch-"))
        self.port = free_port()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pg_db = f"perflab_bench_{os.getpid()}" if postgres else None
        (self.dir / "ssh_config").touch()
        self.env = {
            **os.environ,
            "PERFLAB_HOME": str(self.dir / "home"),
            "PERFLAB_BROKER_URL": self.broker_url,
            "PERFLAB_STATE_DIR": str(self.dir / "state"),
            "PERFLAB_PREFIX": f"perflab-bench{os.getpid()}",
            "PERFLAB_SSH_CONFIG": str(self.dir / "ssh_config"),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(self.dir)]),
            "RAW_BROKER_URL": self.broker_url,
            "RAW_LOG": str(self.dir / "raw.log"),
        }
        self.env.pop("PERFLAB_DB_URL", None)
        if self.pg_db:
            self.env["PERFLAB_DB_URL"] = (
                f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.pg_db}"
            )
        (self.dir / "rawapp.py").write_text(RAW_APP)

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    # -- services ------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        if self.pg_db:
            self._psql(f"CREATE DATABASE {self.pg_db}")
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--logfile",
            "redis.log",
        ]
        self.redis = subprocess.Popen(argv, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                break
            time.sleep(0.05)
        os.environ.clear()  # this process reads the same store as the commands
        os.environ.update(self.env)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.redis.terminate()
        self.redis.wait(timeout=30)
        if self.pg_db:  # FORCE: this process's own connections are closed with it
            self._psql(f"DROP DATABASE IF EXISTS {self.pg_db} WITH (FORCE)")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _psql(self, sql: str) -> None:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", sql],
            check=True,
            capture_output=True,
        )

    def redis_info(self, section: str) -> dict[str, str]:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "info", section],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)

    def db_bytes(self) -> int:
        """The store's size: the SQLite file (and its WAL), or pg_database_size."""
        if self.pg_db:
            out = subprocess.run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "test",
                    "-tAc",
                    f"SELECT pg_database_size('{self.pg_db}')",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            return int(out.strip())
        home = self.dir / "home"
        return sum(p.stat().st_size for p in home.glob("perflab.db*"))

    # -- commands ------------------------------------------------------------------------

    def perflab(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "perflab", *argv],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode:
            raise SystemExit(
                f"perflab {' '.join(argv)}: exit {done.returncode}\n{done.stderr[-2000:]}"
            )
        return done

    def start(self, name: str, argv: list[str], ready: str = " ready.") -> Path:
        """A long-running process in a session of its own, its output in a log; returns
        when the log says ``ready``."""
        log = self.dir / f"{name}.log"
        proc = subprocess.Popen(
            argv,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.dir,
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if ready in log.read_text(errors="replace"):
                return log
            if proc.poll() is not None:
                raise SystemExit(f"{name} ended: {log.read_text()[-3000:]}")
            time.sleep(0.1)
        raise SystemExit(f"{name} did not start: {log.read_text()[-3000:]}")

    def worker(self, name: str, *argv: str) -> Path:
        return self.start(name, [sys.executable, "-m", "perflab", "worker", *argv])

    def raw_worker(self) -> Path:
        return self.start(
            "raw-worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "rawapp",
                "worker",
                "-Q",
                "raw",
                "-c",
                "1",
                "-P",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
                "-n",
                f"raw-{os.getpid()}@%h",
            ],
        )

    def write_job(self, name: str = "trivial") -> Path:
        folder = self.dir / "jobs" / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "job.yaml"
        # on CPU 0: every CPU but 0 is reserved by default, and another session's shield
        # on this shared machine may take those away for a while (this bench measures
        # dispatch, not the benchmark)
        path.write_text(
            f'name: {name}\nbenchmarks:\n  - name: b\n    command: "true"\n'
            "    format: time\nrepetitions: {warmup: 0, runs: 1}\n"
            'pin: {cpus: "0"}\n'
        )
        return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95)}
