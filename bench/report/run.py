"""Compare and report at scale, end to end through the CLI (targets: compare <= 2 s,
``--json`` included; the HTML page of it <= 5 s).

    python3 bench/report/run.py [--benchmarks 10000] [--samples 30] [--repeat 3]
                                [--history 0] [--against OTHER_CHECKOUT]

Writes two runs of N benchmarks x S samples into a fresh SQLite store (2% of the
benchmarks 10% slower in the second), after ``--history`` earlier runs of the same job
(none by default; with them the compare learns the run-to-run spread), then times, each
as a user runs it (``python -m perflab ...`` in a new process, output to a file):
``compare A B --json``, ``compare A B`` (the table), ``--format md`` and
``--format html``. Prints the median wall time of each over ``--repeat`` runs, the
output's size and lines. ``--against DIR`` (another perflab checkout, e.g. a
``git worktree`` of an older commit, with the same store schema) runs the same commands
from there interleaved with these and prints the ratio: on a shared machine the ratio
holds where the absolute times drift. Each checkout's package is byte-compiled first, as
an installed package is: with ``PYTHONDONTWRITEBYTECODE`` set (as on this lab's
machines) a checkout without ``__pycache__`` would otherwise compile its modules in every
command, 0.3-0.5 s of a 3 s compare, and a fresh worktree would be measured slower than
this one for that alone.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "report"))

import synth  # noqa: E402

TARGETS = {"json": 2.0, "table": 2.0, "md": 2.0, "html": 5.0}


def timed(argv: list[str], out: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall and CPU seconds (user + system of the child) of one CLI command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with out.open("w") as handle:
        status = subprocess.run(
            [sys.executable, "-m", "perflab", *argv],
            stdout=handle,
            env=env,
            check=False,
            cwd=out.parent,  # not a checkout: `python -m` imports from its directory first
        ).returncode
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, status


def compiled(checkout: str) -> None:
    """Byte-compile ``checkout``'s perflab (written even under PYTHONDONTWRITEBYTECODE)."""
    compileall.compile_dir(str(Path(checkout) / "perflab"), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (median)")
    parser.add_argument("--against", help="another perflab checkout to time beside this one")
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="earlier runs of the job before the pair (each a few %% faster or slower): "
        "the compare learns the run-to-run spread from them",
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="perflab-bench-report-"))
    env = {**os.environ, "PERFLAB_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    env.pop("PERFLAB_DB_URL", None)
    os.environ.update(PERFLAB_HOME=str(home))
    os.environ.pop("PERFLAB_DB_URL", None)
    from perflab.store import open_store

    cpu = time.process_time()
    drift = np.random.default_rng(7).lognormal(0.0, 0.03, args.history)
    with open_store() as store:
        ingest = 0.0
        for i, scale in enumerate(drift):
            ingest += synth.store_run(
                store,
                f"hist{i:04d}",
                synth.result(args.benchmarks, args.samples, seed=100 + i, scale=float(scale)),
            )
        ingest += synth.store_run(
            store, "base0001", synth.result(args.benchmarks, args.samples, seed=1)
        )
        ingest += synth.store_run(
            store, "cand0001", synth.result(args.benchmarks, args.samples, seed=1, shift=1.10)
        )
    total = (2 + args.history) * args.benchmarks * args.samples
    cpu = time.process_time() - cpu
    print(
        f"store: {total:,} samples in {ingest:.2f} s wall, {cpu:.2f} s CPU "
        f"({total / ingest:,.0f} samples/s, SQLite)"
    )
    cases = {
        "json": ["--json"],
        "table": [],
        "md": ["--format", "md"],
        "html": ["--format", "html", "-o", str(home / "compare.html")],
    }
    checkouts = {"this": str(REPO)}
    if args.against:
        checkouts["other"] = str(Path(args.against).resolve())
    for path in checkouts.values():
        compiled(path)
    for name, extra in cases.items():
        out = home / f"compare.{name}"
        walls: dict[str, list[float]] = {key: [] for key in checkouts}
        cpus: dict[str, list[float]] = {key: [] for key in checkouts}
        status = 0
        for _ in range(args.repeat):
            for key, path in checkouts.items():
                took, cpu, code = timed(
                    ["compare", "base0001", "cand0001", *extra], out, {**env, "PYTHONPATH": path}
                )
                walls[key].append(took)
                cpus[key].append(cpu)
                status = code if key == "this" else status
        target = home / "compare.html" if name == "html" else out
        size = target.stat().st_size
        lines = target.read_text(encoding="utf-8").count("\n")
        took, cpu = statistics.median(walls["this"]), statistics.median(cpus["this"])
        verdict = "met" if took <= TARGETS[name] else "NOT met"
        print(
            f"compare {name:5}: {took:5.2f} s wall, {cpu:5.2f} s CPU (exit {status}), "
            f"{size / 1e6:.1f} MB, {lines:,} lines; target <= {TARGETS[name]:.0f} s: "
            f"{verdict}; load average {os.getloadavg()[0]:.1f}"
        )
        if "other" in checkouts:
            other, other_cpu = statistics.median(walls["other"]), statistics.median(cpus["other"])
            print(
                f"   against {args.against}: {other:5.2f} s wall, {other_cpu:5.2f} s CPU; "
                f"this / that = {took / other:.2f} wall, {cpu / other_cpu:.2f} CPU"
            )


if __name__ == "__main__":
    main()
