"""Dispatch: how fast a submitted job starts, against a raw Celery no-op task on the same
broker, and how many trivial jobs a lab of 10 runners and 2 workers gets through.

    .venv/bin/python bench/dispatch/run.py [--samples 30] [--jobs 1000] [--runners 10]
                                           [--workers 2] [--postgres] [--only latency|throughput]

Everything runs as a user runs it: a redis-server of the bench's own on a free port
(append-only file on, as in compose.yaml), `perflab worker` processes, `perflab runner
add`, and a scratch store (SQLite under a temporary PERFLAB_HOME, or with --postgres a
database it creates on the local PostgreSQL and drops).

**Latency** (an idle runner: `local`, one `perflab worker --runner local`). Each sample
submits one trivial job (`true`, one repetition) and waits for it to end, so the runner
is idle again before the next; beside it, in the same rounds, a raw Celery worker (same
broker, same settings: acks late, prefetch 1, prefork, one process) gets a no-op task.
Two ways, each with its own peer:

- *command*: `perflab submit job.yaml` started as a process, until the worker leased the
  job (its ``leased`` event; ``running``, when the harness started on the runner, is
  shown too), against `celery -A rawapp call raw.noop` started as a process, until the
  task began;
- *library*: perflab's submit call (what the command calls after loading and
  validating the job file) in this process, against ``app.send_task`` in this process.

**Throughput**: ``--runners`` runners registered with ``ansible_connection=local``
(this machine without SSH, each with its own state dir, so its own host lock: cheap,
and still the whole run path: lease, host lock, harness, store), ``--workers`` workers
each serving an equal share of them, ``--jobs`` trivial jobs submitted to their group
from this process with perflab's submit call as fast as it goes.
The jobs are submitted first (a backlog, as a night of CI leaves), then the workers
start; jobs per second from the first job's lease to the last job's end (the workers'
start-up is not counted; the submit rate is shown apart); the store's size after;
Redis's used_memory_peak; and what the workers' processes did with the messages they
got (a job started, or nothing to do), from their logs.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab import Lab, load, summary


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _event_time(job: dict[str, Any], state: str) -> float | None:
    for event in job["events"]:
        if event["state"] == state:
            return _epoch(event["at"])
    return None


def _wait_final(store: Any, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.jobs.get(job_id)
        if job["state"] in ("done", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.05)
    raise SystemExit(f"job {job_id} did not end: {store.jobs.get(job_id)['state']}")


def _raw_started(lab: Lab, tag: str, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    log = lab.dir / "raw.log"
    while time.monotonic() < deadline:
        if log.exists():
            for line in log.read_text().splitlines():
                name, _, at = line.partition(" ")
                if name == tag:
                    return float(at)
        time.sleep(0.01)
    raise SystemExit(f"the raw task {tag} did not start")


def _submit_command(lab: Lab, store: Any, job_file: Path) -> tuple[float, float]:
    t0 = time.time()
    done = lab.perflab("submit", str(job_file), "--runner", "local", "--json")
    job = _wait_final(store, json.loads(done.stdout)["job_id"])
    assert job["state"] == "done", job
    return _event_time(job, "leased") - t0, _event_time(job, "running") - t0  # type: ignore[operator]


def _raw_command(lab: Lab, tag: str) -> float:
    t0 = time.time()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rawapp",
            "call",
            "raw.noop",
            "--args",
            json.dumps([tag]),
            "--queue",
            "raw",
        ],
        env=lab.env,
        cwd=lab.dir,
        capture_output=True,
        check=True,
    )
    return _raw_started(lab, tag) - t0


def _submit_library(store: Any, app: Any, submission: Any) -> float:
    from perflab.queue.submit import submit

    t0 = time.time()
    job = _wait_final(store, submit(store, app, submission))
    return _event_time(job, "leased") - t0  # type: ignore[operator]


def _raw_library(lab: Lab, raw: Any, tag: str) -> float:
    t0 = time.time()
    raw.send_task("raw.noop", args=[tag], queue="raw")
    return _raw_started(lab, tag) - t0


def latency(lab: Lab, samples: int) -> dict[str, Any]:
    from celery import Celery

    from perflab.queue.app import make_app
    from perflab.queue.submit import Submission
    from perflab.spec.job import load_job
    from perflab.store import open_store

    lab.worker("latency-worker", "--runner", "local")
    lab.raw_worker()
    job_file = lab.write_job()
    submission = Submission(load_job(str(job_file)), "runner", "local")
    raw = Celery("raw", broker=lab.broker_url, set_as_current=False)
    raw.conf.update(task_serializer="json", task_ignore_result=True)
    figures: dict[str, list[float]] = {
        k: [] for k in ("cmd_leased", "cmd_running", "raw_cmd", "lib", "raw_lib")
    }
    with open_store() as store:
        app = make_app()
        for i in range(samples):  # interleaved: each round measures all four
            leased, running = _submit_command(lab, store, job_file)
            figures["cmd_leased"].append(leased)
            figures["cmd_running"].append(running)
            figures["raw_cmd"].append(_raw_command(lab, f"c{i}"))
            figures["lib"].append(_submit_library(store, app, submission))
            figures["raw_lib"].append(_raw_library(lab, raw, f"l{i}"))
            time.sleep(0.2)
    return {k: summary(v) for k, v in figures.items()}


# -- throughput ------------------------------------------------------------------------------

OUTCOME = re.compile(r"job [0-9a-f]+: (.+)$")


def _outcomes(logs: list[Path]) -> Counter[str]:
    found: Counter[str] = Counter()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            match = OUTCOME.search(line)
            if match:
                found[match.group(1).split(":")[0]] += 1
            if "reconciled:" in line and "republished" in line:
                found["republished by a reconciler"] += len(
                    re.findall(r"'[0-9a-f]{12}'", line.split("'republished'", 1)[1].split("]")[0])
                )
    return found


def throughput(lab: Lab, jobs: int, runners: int, workers: int) -> dict[str, Any]:
    from perflab.queue.app import make_app
    from perflab.queue.submit import Submission, submit
    from perflab.spec.job import load_job
    from perflab.store import open_store

    names = [f"bench{i:02d}" for i in range(1, runners + 1)]
    for name in names:
        lab.perflab(
            "runner",
            "add",
            name,
            "--group",
            "bench",
            "--platform",
            "bench-local",
            "--var",
            "ansible_connection=local",
            "--var",
            f"perflab_state_dir={lab.dir / 'runners' / name}",
            "--var",
            f"perflab_name_prefix={lab.env['PERFLAB_PREFIX']}{name}",
        )
    submission = Submission(load_job(str(lab.write_job("trivial-group"))), "group", "bench")
    before = lab.redis_info("memory")
    with open_store() as store:
        app = make_app()
        t0 = time.time()
        ids = [submit(store, app, submission) for _ in range(jobs)]
        submitted = time.time() - t0
        share = -(-runners // workers)
        logs = []
        for w in range(workers):  # a backlog waits for them, as after a night of CI
            mine = names[w * share : (w + 1) * share]
            logs.append(lab.worker(f"worker-{w}", *[a for n in mine for a in ("--runner", n)]))
        for job_id in ids:
            _wait_final(store, job_id, timeout=7200)
        ended = [store.jobs.get(j) for j in ids]
    first = min(_event_time(j, "leased") or math.inf for j in ended)
    last = max(_epoch(j["finished_at"]) for j in ended)
    states = Counter(j["state"] for j in ended)
    memory = lab.redis_info("memory")
    return {
        "jobs": jobs,
        "runners": runners,
        "workers": workers,
        "states": dict(states),
        "submit_s": submitted,
        "wall_s": last - first,
        "jobs_per_s": jobs / (last - first),
        "db_bytes": lab.db_bytes(),
        "redis_used_memory_peak": int(memory["used_memory_peak"]),
        "redis_used_memory_peak_before": int(before["used_memory_peak"]),
        "attempts": sum(j["attempt"] for j in ended),
        "messages": dict(_outcomes(logs)),
    }


def _ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def report_latency(doc: dict[str, Any]) -> None:
    rows = [
        ("command: perflab submit -> leased", "cmd_leased", "raw_cmd"),
        ("command: perflab submit -> running", "cmd_running", "raw_cmd"),
        ("library: submit() -> leased", "lib", "raw_lib"),
    ]
    print(f"latency, {doc['cmd_leased']['n']} samples each (load {load()})")
    print(
        f"{'':38} {'perflab p50':>12} {'p95':>9} {'raw Celery p50':>15} {'p95':>9} "
        f"{'ratio p50':>10} {'p95':>6}"
    )
    for label, ours, peer in rows:
        a, b = doc[ours], doc[peer]
        print(
            f"{label:38} {_ms(a['p50']):>12} {_ms(a['p95']):>9} {_ms(b['p50']):>15} "
            f"{_ms(b['p95']):>9} {a['p50'] / b['p50']:>9.2f}x {a['p95'] / b['p95']:>5.2f}x"
        )


def report_throughput(doc: dict[str, Any]) -> None:
    print(
        f"throughput: {doc['jobs']} jobs, {doc['runners']} runners, {doc['workers']} workers "
        f"(load {load()})"
    )
    print(f"  states {doc['states']}, attempts {doc['attempts']}")
    print(
        f"  submitted in {doc['submit_s']:.1f} s ({doc['jobs'] / doc['submit_s']:.1f} a second, "
        f"no worker running); run from the first lease to the last end in "
        f"{doc['wall_s']:.1f} s: {doc['jobs_per_s']:.2f} jobs/s"
    )
    print(
        f"  store {doc['db_bytes'] / 2**20:.1f} MiB ({doc['db_bytes'] / doc['jobs'] / 1024:.1f} "
        f"KiB a job); Redis used_memory_peak {doc['redis_used_memory_peak'] / 2**20:.2f} MiB "
        f"(before submitting: {doc['redis_used_memory_peak_before'] / 2**20:.2f} MiB)"
    )
    print(f"  messages the workers handled: {doc['messages']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--runners", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a scratch database on the PostgreSQL at 127.0.0.1:5432",
    )
    parser.add_argument("--only", choices=["latency", "throughput"])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    # stopped from a shell that ignores SIGINT in background jobs, or with SIGTERM: the
    # workers, Redis and the scratch database are still cleaned up on the way out
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out: dict[str, Any] = {"store": "postgresql" if args.postgres else "sqlite"}
    print(f"store: {out['store']}")
    if args.only != "throughput":
        with Lab(args.postgres) as lab:
            out["latency"] = latency(lab, args.samples)
        report_latency(out["latency"])
    if args.only != "latency":
        with Lab(args.postgres) as lab:
            out["throughput"] = throughput(lab, args.jobs, args.runners, args.workers)
        report_throughput(out["throughput"])
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
