"""Harness overhead per repetition, against `hyperfine -N`, in the same run.

Both tools run a trivial command (`true`) N times. The cost per repetition is
the slope of total elapsed time between N=SMALL and N=LARGE repetitions (fixed
start-up costs cancel out). The overhead is that cost minus the command's own
measured time (what the tool reports for it). Pairs are interleaved
(perflab, hyperfine, perflab, ...) so machine drift hits both alike.

    python3 bench/overhead/run.py [--rounds 5]

Target (issue 2): perflab's per-repetition overhead <= 1.5x hyperfine's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from perflab.hostside import source
from perflab.transport.local import LocalTransport

SMALL, LARGE = 100, 600
COMMAND = "true"


def perflab_once(n: int) -> tuple[float, float]:
    """(elapsed seconds for n repetitions, median measured ns of the command)."""
    transport = LocalTransport()
    with tempfile.TemporaryDirectory(prefix="perflab-bench-") as tmp:
        steps = [{"id": f"r{i}", "kind": "run", "argv": [shutil.which(COMMAND)]}
                 for i in range(n)]
        request = {"workdir": tmp, "rundir": f"{tmp}/out", "env": {}, "cpus": None,
                   "job_timeout": None, "steps": steps}
        process = transport.start([transport.python, "-c", source("harness")],
                                  stdin=json.dumps(request).encode())
        walls, start, end = [], None, None
        for line in process.lines():
            event = json.loads(line)
            if event["event"] == "start":
                start = time.monotonic()
            elif event["event"] == "step":
                walls.append(event["wall_ns"])
            elif event["event"] == "done":
                end = time.monotonic()
        process.wait()
    assert start is not None and end is not None and len(walls) == n
    return end - start, statistics.median(walls)


def hyperfine_once(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="perflab-bench-") as tmp:
        out = Path(tmp) / "h.json"
        start = time.monotonic()
        subprocess.run(["hyperfine", "-N", "--runs", str(n), "--warmup", "0", "--style", "none",
                        "--export-json", str(out), COMMAND], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.monotonic() - start
        times = json.loads(out.read_text())["results"][0]["times"]
    return elapsed, statistics.median(times) * 1e9


def slope(measure, rounds: int) -> list[tuple[float, float]]:
    out = []
    for _ in range(rounds):
        small, _ = measure(SMALL)
        large, measured = measure(LARGE)
        out.append(((large - small) / (LARGE - SMALL), measured))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("hyperfine") is None:
        sys.exit("hyperfine is not installed (apt-get install hyperfine)")
    results: dict[str, list[tuple[float, float]]] = {"perflab": [], "hyperfine": []}
    for _ in range(args.rounds):  # interleaved: drift hits both tools alike
        results["perflab"] += slope(perflab_once, 1)
        results["hyperfine"] += slope(hyperfine_once, 1)
    print(f"command: {COMMAND!r}; cost per repetition = slope between N={SMALL} and N={LARGE}; "
          f"{args.rounds} interleaved rounds, medians")
    print(f"{'tool':<10} {'per rep':>10} {'measured':>10} {'overhead':>10}")
    figures, totals = {}, {}
    for tool, rows in results.items():
        per_rep = statistics.median(r[0] for r in rows) * 1e6
        measured = statistics.median(r[1] for r in rows) / 1e3
        figures[tool], totals[tool] = per_rep - measured, per_rep
        print(f"{tool:<10} {per_rep:>8.0f}us {measured:>8.0f}us {figures[tool]:>8.0f}us")
    ratio = figures["perflab"] / figures["hyperfine"]
    print(f"overhead ratio perflab/hyperfine: {ratio:.2f} (target <= 1.5)")
    # what each tool counts as the command's own time differs a little (perflab's clock
    # includes posix_spawn's argument conversion), so the whole cost is shown too
    print(f"whole cost per repetition, perflab/hyperfine: "
          f"{totals['perflab'] / totals['hyperfine']:.2f}")


if __name__ == "__main__":
    main()
