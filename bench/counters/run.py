"""Counted metrics on a noisy host: a 1% change in work, with a CPU hog pinned beside it.

The program is a C loop (``loop N``: N multiply-adds); the candidate does 1% more
iterations. Everything runs through `perflab run` and `perflab compare` (subprocesses,
a private PERFLAB_HOME and state dir), the benchmark pinned to one CPU and a hog this
script starts (a busy Python loop) pinned to the same CPU for the whole time, killed at
the end.

1. counted: TRIES pairs (baseline, candidate), one counted repetition per side (counters:
   [instructions], counting.runs 1): how many `compare` calls say regressed on
   instructions; and AA pairs of two baseline runs: how many say anything but same.
2. timed: the same change in A/B mode (interleaved pairs in one run, paired comparison)
   with growing numbers of pairs: the wall_time verdict at each.
3. ab: the same change in A/B mode with counters: one interleaved pair per experiment
   (one timed and one counted repetition a side); how many say regressed on
   instructions, what wall_time says; and A/A experiments (the same N twice).
4. overhead: a counted repetition's wall time against a timed one's (the callgrind
   slowdown of `format: time`), and for `go` (-test.benchtime=Nx) and `gbench`
   (->Iterations(N)) when their tools are installed.

    python3 bench/counters/run.py [--tries 10] [--aa 20] [--iterations 20000000]
        [--ab-tries 10] [--ab-aa 10] [--skip counted,timed,ab,overhead]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LOOP_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  volatile unsigned long acc = 0;
  for (long i = 0; i < n; i++) acc += i * 2654435761u;
  printf("%lu\n", acc);
  return 0;
}
"""
GO_TEST = """package loop
import "testing"
var sink uint64
func BenchmarkLoop(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var acc uint64
		for j := uint64(0); j < 1000; j++ { acc += j * 2654435761 }
		sink += acc
	}
}
"""
GBENCH = """#include <benchmark/benchmark.h>
static void BM_Loop(benchmark::State& state) {
  for (auto _ : state) {
    unsigned long acc = 0;
    for (unsigned long j = 0; j < 1000; j++) acc += j * 2654435761u;
    benchmark::DoNotOptimize(acc);
  }
}
BENCHMARK(BM_Loop)->Iterations(20000);
BENCHMARK_MAIN();
"""


@contextlib.contextmanager
def machine_shared() -> Iterator[None]:
    """Share the machine with test sessions as tests/conftest.py does (a test that shields
    this machine's CPUs takes it alone): through the turnstile, then a shared lock."""
    import fcntl

    fd = os.open("/tmp/perflab-test-machine.lock", os.O_RDWR | os.O_CREAT, 0o666)
    turn = os.open("/tmp/perflab-test-machine.turn", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(turn, fcntl.LOCK_EX)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        finally:
            os.close(turn)
        yield
    finally:
        os.close(fd)


class Lab:
    def __init__(self, folder: Path, cpu: int) -> None:
        self.folder, self.cpu = folder, cpu
        self.env = {
            **os.environ,
            "PERFLAB_HOME": str(folder / "home"),
            "PERFLAB_STATE_DIR": str(folder / "state"),
            "PYTHONPATH": str(REPO),
            "NO_COLOR": "1",
        }

    def perflab(self, *argv: str) -> tuple[int, Any]:
        with machine_shared():
            done = subprocess.run(
                [sys.executable, "-m", "perflab", *argv, "--json"],
                check=False,
                capture_output=True,
                text=True,
                env=self.env,
                timeout=3600,
            )
        try:
            return done.returncode, json.loads(done.stdout)
        except ValueError:
            raise SystemExit(
                f"perflab {' '.join(argv)}: exit {done.returncode}: {done.stderr[-2000:]}"
            ) from None

    def job(self, name: str, body: str) -> Path:
        path = self.folder / f"{name}.yaml"
        path.write_text(f'name: loop\nworkdir: {self.folder}\npin: {{cpus: "{self.cpu}"}}\n' + body)
        return path

    def run(self, path: Path) -> dict[str, Any]:
        _, run = self.perflab("run", str(path))
        if run.get("status") != "completed":
            raise SystemExit(f"run of {path} {run.get('status')}: {run.get('message')}")
        return dict(run)

    def compare(self, a: str, b: str, metric: str) -> dict[str, Any]:
        _, report = self.perflab("compare", a, b, "--metric", metric)
        return dict(next(r for r in report["rows"] if r["metric"] == metric))


def counted_job(lab: Lab, iterations: int) -> Path:
    return lab.job(
        f"counted-{iterations}",
        (
            f'benchmarks:\n  - name: loop\n    command: [./loop, "{iterations}"]\n'
            "    format: time\nrepetitions: {warmup: 0, runs: 1}\ncounters: [instructions]\n"
        ),
    )


def counted(lab: Lab, tries: int, aa: int, n: int) -> dict[str, Any]:
    base_job, cand_job = counted_job(lab, n), counted_job(lab, n + n // 100)
    bases = [lab.run(base_job)["run_id"] for _ in range(max(tries, aa + 1))]
    cands = [lab.run(cand_job)["run_id"] for _ in range(tries)]
    ab = [lab.compare(bases[i], cands[i], "instructions") for i in range(tries)]
    aa_rows = [lab.compare(bases[i], bases[i + 1], "instructions") for i in range(aa)]
    return {
        "regressed": sum(r["verdict"] == "regressed" for r in ab),
        "tries": tries,
        "changes": sorted({round(r["change"], 6) for r in ab}),
        "aa_alarms": sum(r["verdict"] != "same" for r in aa_rows),
        "aa": aa,
        "aa_changes": sorted({round(r["change"], 6) for r in aa_rows}),
    }


def timed(lab: Lab, n: int, pairs: list[int]) -> list[dict[str, Any]]:
    out = []
    for count in pairs:
        path = lab.job(
            f"ab-{count}",
            (
                f'env: {{N: "{n}"}}\n'
                "benchmarks:\n  - name: loop\n    command: ./loop $N\n    format: time\n"
                f"repetitions: {{warmup: 1, runs: {count}}}\n"
                f'ab: {{vary: env.N, values: ["{n}", "{n + n // 100}"]}}\n'
            ),
        )
        _, result = lab.perflab("run", str(path))
        rows = (result.get("comparison") or {}).get("rows") or []
        row = next((r for r in rows if r["metric"] == "wall_time"), {})
        out.append(
            {
                "pairs": count,
                "verdict": row.get("verdict"),
                "change": row.get("change"),
                "ci": row.get("ratio_ci"),
            }
        )
    return out


def ab_counted(lab: Lab, tries: int, aa: int, n: int) -> dict[str, Any]:
    """A/B mode with counters: one interleaved pair (one timed and one counted repetition
    a side) per experiment; the instructions and wall_time verdicts of the paired report."""

    def experiment(name: str, values: list[int]) -> dict[str, Any]:
        path = lab.job(
            name,
            (
                f'env: {{N: "{n}"}}\n'
                "benchmarks:\n  - name: loop\n    command: ./loop $N\n    format: time\n"
                "repetitions: {warmup: 0, runs: 1}\ncounters: [instructions]\n"
                f"ab: {{vary: env.N, values: {json.dumps([str(v) for v in values])}}}\n"
            ),
        )
        status, result = lab.perflab("run", str(path))
        rows = {r["metric"]: r for r in (result.get("comparison") or {}).get("rows") or []}
        return {
            "exit": status,
            "instructions": (rows.get("instructions") or {}).get("verdict"),
            "change": (rows.get("instructions") or {}).get("change"),
            "wall_time": (rows.get("wall_time") or {}).get("verdict"),
            "wall_change": (rows.get("wall_time") or {}).get("change"),
            "counted_rounds": result.get("counted_rounds"),
        }

    ab = [experiment("ab-counted", [n, n + n // 100]) for _ in range(tries)]
    same = [experiment("aa-counted", [n, n]) for _ in range(aa)]
    return {
        "tries": tries,
        "regressed": sum(r["instructions"] == "regressed" for r in ab),
        "exit_2": sum(r["exit"] == 2 for r in ab),
        "changes": sorted({round(r["change"] or 0, 6) for r in ab}),
        "wall_verdicts": sorted(r["wall_time"] or "-" for r in ab),
        "wall_changes": sorted(round(r["wall_change"] or 0, 4) for r in ab),
        "aa": aa,
        "aa_alarms": sum(r["instructions"] != "same" for r in same),
        "aa_exit_2": sum(r["exit"] == 2 for r in same),
        "aa_changes": sorted({round(r["change"] or 0, 6) for r in same}),
        "counted_rounds": sorted({r["counted_rounds"] for r in ab + same}),
    }


def _slowdown(lab: Lab, path: Path) -> dict[str, float]:
    run = lab.run(path)
    reps = run["repetitions"]
    timed_ns = statistics.median(r["wall_ns"] for r in reps if r["kind"] == "run")
    count_ns = statistics.median(r["wall_ns"] for r in reps if r["kind"] == "count")
    return {
        "timed_ms": timed_ns / 1e6,
        "counted_ms": count_ns / 1e6,
        "slowdown": count_ns / timed_ns,
    }


def overhead(lab: Lab, n: int) -> dict[str, Any]:
    out = {
        "time": _slowdown(
            lab,
            lab.job(
                "over-time",
                (
                    f'benchmarks:\n  - name: loop\n    command: [./loop, "{n}"]\n    format: time\n'
                    "repetitions: {warmup: 1, runs: 5}\ncounters: [instructions]\n"
                    "counting: {runs: 3}\n"
                ),
            ),
        )
    }
    if shutil.which("go"):
        go_dir = lab.folder / "gobench"
        go_dir.mkdir(exist_ok=True)
        (go_dir / "go.mod").write_text("module loop\n\ngo 1.19\n")
        (go_dir / "loop_test.go").write_text(GO_TEST)
        subprocess.run(
            ["go", "test", "-c", "-o", str(lab.folder / "loop.test")],
            cwd=go_dir,
            check=True,
            env={**os.environ, "GOFLAGS": "-mod=mod", "GOCACHE": str(lab.folder / "gocache")},
        )
        out["go"] = _slowdown(
            lab,
            lab.job(
                "over-go",
                (
                    "benchmarks:\n  - name: loop\n    command: [./loop.test, -test.run=^$, "
                    "-test.bench=^BenchmarkLoop$, -test.benchtime=20000x]\n    format: go\n"
                    '    env: {GOGC: "off", GOMAXPROCS: "1"}\n'
                    "repetitions: {warmup: 1, runs: 5}\ncounters: [instructions]\n"
                    "counting: {runs: 3}\n"
                ),
            ),
        )
    header = Path("/usr/include/benchmark/benchmark.h")
    if header.exists() and shutil.which("g++"):
        (lab.folder / "gb.cc").write_text(GBENCH)
        subprocess.run(
            [
                "g++",
                "-O2",
                "-o",
                str(lab.folder / "gb"),
                str(lab.folder / "gb.cc"),
                "-lbenchmark",
                "-lpthread",
            ],
            check=True,
        )
        out["gbench"] = _slowdown(
            lab,
            lab.job(
                "over-gbench",
                (
                    "benchmarks:\n  - name: loop\n    command: [./gb, --benchmark_format=json]\n"
                    "    format: gbench\nrepetitions: {warmup: 1, runs: 5}\n"
                    "counters: [instructions]\ncounting: {runs: 3}\n"
                ),
            ),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--aa", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=20_000_000)
    parser.add_argument("--pairs", default="10,40,160")
    parser.add_argument("--cpu", type=int, default=1)
    parser.add_argument("--ab-tries", type=int, default=10)
    parser.add_argument("--ab-aa", type=int, default=10)
    parser.add_argument("--skip", default="", help="comma list of: counted,timed,ab,overhead")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    folder = Path(tempfile.mkdtemp(prefix="perflab-bench-counters-"))
    (folder / "loop.c").write_text(LOOP_C)
    subprocess.run(["cc", "-O2", "-o", str(folder / "loop"), str(folder / "loop.c")], check=True)
    lab = Lab(folder, args.cpu)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    os.sched_setaffinity(hog.pid, {args.cpu})  # the hog this script started, beside the loop
    figures: dict[str, Any] = {"iterations": args.iterations, "cpu": args.cpu, "hog_pid": hog.pid}
    try:
        if "counted" not in skip:
            figures["counted"] = counted(lab, args.tries, args.aa, args.iterations)
            print(json.dumps({"counted": figures["counted"]}), flush=True)
        if "timed" not in skip:
            figures["timed"] = timed(lab, args.iterations, [int(p) for p in args.pairs.split(",")])
            print(json.dumps({"timed": figures["timed"]}), flush=True)
        if "ab" not in skip:
            figures["ab"] = ab_counted(lab, args.ab_tries, args.ab_aa, args.iterations)
            print(json.dumps({"ab": figures["ab"]}), flush=True)
        if "overhead" not in skip:
            figures["overhead"] = overhead(lab, args.iterations)
            print(json.dumps({"overhead": figures["overhead"]}), flush=True)
    finally:
        hog.kill()
        hog.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
