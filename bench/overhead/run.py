"""Harness overhead per repetition, against `hyperfine -N`, in the same run.

Both tools run a trivial command (`true`) N times: perflab through its host-side
harness, with the steps its planner makes for a job (per-step environment and
timeout, as in a real run), hyperfine with `-N` (no shell). Two figures, each
the slope between N=SMALL and N=LARGE repetitions (fixed start-up costs cancel):

* wall: elapsed time per repetition. The overhead is that minus the command's
  own time, taken as the lower of the two tools' medians for it (both time the
  same spawn-and-wait; neither tool's clock placement is favoured).
* CPU: the tool's own CPU time per repetition: the CPU time of the tool's whole
  process tree (getrusage of reaped children) minus the user+system time the
  tool reports for the commands it ran. Much less sensitive to other load on a
  shared machine than wall time.

Pairs are interleaved (perflab, hyperfine, perflab, ...) so drift hits both.

    python3 bench/overhead/run.py [--rounds 7]

Target (issue 2): perflab's per-repetition overhead <= 1.5x hyperfine's.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from perflab.execute.plan import bench_steps
from perflab.hostside import source
from perflab.spec.job import parse_job
from perflab.transport.local import LocalTransport

SMALL, LARGE = 100, 600
COMMAND = "true"
JOB = """\
name: overhead
benchmarks:
  - name: "true"
    command: [{path}]
repetitions: {{warmup: 0, runs: {runs}}}
"""


@dataclass
class Sample:
    elapsed: float  # seconds for n repetitions
    tool_cpu: float  # seconds of CPU the tool itself used (its tree minus the commands)
    measured_ns: float  # the tool's median for the command


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def perflab_once(n: int) -> Sample:
    transport = LocalTransport()
    path = shutil.which(COMMAND)
    job = parse_job(JOB.format(path=json.dumps(path), runs=n), "overhead.yaml")
    with tempfile.TemporaryDirectory(prefix="perflab-bench-") as tmp:
        request = {
            "workdir": tmp,
            "rundir": f"{tmp}/out",
            "env": {},
            "cpus": None,
            "job_timeout": None,
            "steps": bench_steps(job, range(1, n + 1)),
        }
        cpu0 = _children_cpu()
        process = transport.start(
            transport.helper_argv(source("harness")), stdin=json.dumps(request).encode()
        )
        walls, commands_cpu, start, end = [], 0, None, None
        for line in process.lines():
            event = json.loads(line)
            if event["event"] == "start":
                start = time.monotonic()
            elif event["event"] == "step":
                walls.append(event["wall_ns"])
                commands_cpu += event["user_ns"] + event["sys_ns"]
            elif event["event"] == "done":
                end = time.monotonic()
        process.wait()
        tree_cpu = _children_cpu() - cpu0
    assert start is not None and end is not None and len(walls) == n
    return Sample(end - start, tree_cpu - commands_cpu / 1e9, statistics.median(walls))


def hyperfine_once(n: int) -> Sample:
    with tempfile.TemporaryDirectory(prefix="perflab-bench-") as tmp:
        out = Path(tmp) / "h.json"
        cpu0 = _children_cpu()
        start = time.monotonic()
        subprocess.run(
            [
                "hyperfine",
                "-N",
                "--runs",
                str(n),
                "--warmup",
                "0",
                "--style",
                "none",
                "--export-json",
                str(out),
                COMMAND,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        elapsed = time.monotonic() - start
        tree_cpu = _children_cpu() - cpu0
        result = json.loads(out.read_text())["results"][0]
    commands_cpu = (result["user"] + result["system"]) * n  # hyperfine exports the means
    return Sample(elapsed, tree_cpu - commands_cpu, statistics.median(result["times"]) * 1e9)


def slope(measure) -> tuple[float, float, float]:
    """(wall s, tool CPU s) per repetition between SMALL and LARGE, and the median measured."""
    small, large = measure(SMALL), measure(LARGE)
    return (
        (large.elapsed - small.elapsed) / (LARGE - SMALL),
        (large.tool_cpu - small.tool_cpu) / (LARGE - SMALL),
        large.measured_ns,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if shutil.which("hyperfine") is None:
        sys.exit("hyperfine is not installed (apt-get install hyperfine)")
    rows: dict[str, list[tuple[float, float, float]]] = {"perflab": [], "hyperfine": []}
    for _ in range(args.rounds):  # interleaved: drift hits both tools alike
        rows["perflab"].append(slope(perflab_once))
        rows["hyperfine"].append(slope(hyperfine_once))
    med = {
        tool: tuple(statistics.median(r[i] for r in rs) for i in range(3))
        for tool, rs in rows.items()
    }
    command_us = min(m[2] for m in med.values()) / 1e3
    print(
        f"command: {COMMAND!r}; per repetition = slope between N={SMALL} and N={LARGE}; "
        f"{args.rounds} interleaved rounds, medians; the command's own time is taken "
        f"as {command_us:.0f}us (the lower of the two tools' medians)"
    )
    print(f"{'tool':<10} {'wall/rep':>9} {'measured':>9} {'wall ovh':>9} {'CPU ovh':>9}")
    figures = {}
    for tool, (wall, cpu, measured) in med.items():
        figures[tool] = {
            "wall_us": wall * 1e6,
            "measured_us": measured / 1e3,
            "wall_overhead_us": wall * 1e6 - command_us,
            "cpu_overhead_us": cpu * 1e6,
        }
        f = figures[tool]
        print(
            f"{tool:<10} {f['wall_us']:>7.0f}us {f['measured_us']:>7.0f}us "
            f"{f['wall_overhead_us']:>7.0f}us {f['cpu_overhead_us']:>7.0f}us"
        )
    p, h = figures["perflab"], figures["hyperfine"]
    ratios = {
        "wall_per_rep": p["wall_us"] / h["wall_us"],
        "wall_overhead": p["wall_overhead_us"] / max(h["wall_overhead_us"], 1e-9),
        "cpu_overhead": p["cpu_overhead_us"] / max(h["cpu_overhead_us"], 1e-9),
    }
    print(
        f"perflab/hyperfine: whole cost per repetition {ratios['wall_per_rep']:.2f}, "
        f"wall overhead {ratios['wall_overhead']:.2f}, CPU overhead "
        f"{ratios['cpu_overhead']:.2f} (target <= 1.5)"
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "ratios": ratios}, indent=2))


if __name__ == "__main__":
    main()
