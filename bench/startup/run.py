"""Start-up time of `perflab --version` and `perflab parse`, with `python3 -c pass` beside them.

    python3 bench/startup/run.py [--runs 30]

Each command runs --runs times, interleaved (so drift hits all alike); the
median and best wall time of each are printed, and perflab's commands as a
ratio to the bare interpreter's start-up. Target (issue 2): --version <= 150 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "data" / "formats" / "go" / "bench.txt"


def commands() -> dict[str, list[str]]:
    py = sys.executable
    return {
        "python3 -c pass": [py, "-c", "pass"],
        "perflab --version": [py, "-m", "perflab", "--version"],
        "perflab parse (go, --json)": [py, "-m", "perflab", "parse", str(SAMPLE), "--json"],
        "perflab --help": [py, "-m", "perflab", "--help"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    times: dict[str, list[float]] = {name: [] for name in commands()}
    for _ in range(args.runs):
        for name, argv in commands().items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["python3 -c pass"])
    print(f"{'command':<30} {'median':>9} {'best':>9} {'x python':>9}")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:<30} {median * 1e3:>7.1f}ms {min(values) * 1e3:>7.1f}ms {median / base:>8.1f}x"
        )
    version = statistics.median(times["perflab --version"]) * 1e3
    print(f"perflab --version median {version:.0f} ms (target <= 150 ms)")


if __name__ == "__main__":
    main()
