"""Ingest and aggregate a sweep: 5 platforms x 2,000 benchmarks x 30 samples, then the
HTML report (target <= 5 s end to end), and the store's ingest rate on SQLite and on
PostgreSQL.

    python3 bench/aggregate/run.py [--platforms 5] [--benchmarks 2000] [--samples 30]
                                   [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

End to end = writing the five runs through the store (as workers do when runs end)
+ ``python -m perflab report RUN1..RUN5 --format html -o FILE`` in a new process.
PostgreSQL: a private database is created on the server given and dropped afterwards
(skipped with a note when the server cannot be reached). The package is byte-compiled
first, as an installed one is (under ``PYTHONDONTWRITEBYTECODE`` the report command would
otherwise compile its modules each time).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "report"))

import synth  # noqa: E402

TARGET_S = 5.0
PLATFORMS = [
    "linux-x86_64",
    "linux-aarch64",
    "linux-x86_64-epyc",
    "darwin-arm64",
    "linux-riscv64",
    "linux-ppc64le",
    "linux-s390x",
]


def ingest(url: str | None, args: argparse.Namespace) -> tuple[float, list[str]]:
    """Write one run per platform; (seconds, run ids)."""
    from perflab.store import open_store

    results = [
        synth.result(args.benchmarks, args.samples, seed=1, shift=1.1, scale=1.0 + 0.25 * i)
        for i in range(args.platforms)
    ]
    took, ids = 0.0, []
    with open_store(url) as store:
        for i, res in enumerate(results):
            run_id = f"sweep{i:03d}"
            took += synth.store_run(store, run_id, res, platform=PLATFORMS[i], runner=f"runner-{i}")
            store.calibrations.record(f"runner-{i}", 2.0 * (1.0 + 0.25 * i), platform=PLATFORMS[i])
            ids.append(run_id)
    return took, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platforms", type=int, default=5)
    parser.add_argument("--benchmarks", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    total = args.platforms * args.benchmarks * args.samples
    home = Path(tempfile.mkdtemp(prefix="perflab-bench-aggregate-"))
    os.environ["PERFLAB_HOME"] = str(home)
    os.environ.pop("PERFLAB_DB_URL", None)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    compileall.compile_dir(str(REPO / "perflab"), quiet=1)
    started, cpu = time.perf_counter(), time.process_time()
    took, ids = ingest(None, args)
    cpu = time.process_time() - cpu
    out = home / "report.html"
    report_started = time.perf_counter()
    status = subprocess.run(
        [sys.executable, "-m", "perflab", "report", *ids, "--format", "html", "-o", str(out)],
        env=env,
        check=False,
    ).returncode
    end = time.perf_counter()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = child.ru_utime + child.ru_stime
    print(
        f"SQLite: ingest {total:,} samples in {took:.2f} s wall ({cpu:.2f} s CPU) = "
        f"{total / took:,.0f} samples/s"
    )
    print(
        f"report --format html: {end - report_started:.2f} s wall, {child_cpu:.2f} s CPU "
        f"(exit {status}), {out.stat().st_size / 1e6:.1f} MB"
    )
    print(
        f"end to end (ingest + report): {end - started:.2f} s wall, {cpu + child_cpu:.2f} s "
        f"CPU; target <= {TARGET_S:.0f} s: {'met' if end - started <= TARGET_S else 'NOT met'}"
        f"; load average {os.getloadavg()[0]:.1f}"
    )
    postgres(args, total)


def postgres(args: argparse.Namespace, total: int) -> None:
    import sqlalchemy

    name = f"perflab_bench_{os.getpid()}"
    admin = sqlalchemy.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as exc:
        print(f"PostgreSQL: not reachable ({str(exc).splitlines()[0]}); skipped")
        return
    try:
        took, _ = ingest(args.pg.rsplit("/", 1)[0] + f"/{name}", args)
        print(
            f"PostgreSQL: ingest {total:,} samples in {took:.2f} s = {total / took:,.0f} samples/s"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
