"""A moderate real change, interleaved: how many A/B pairs it takes to call it, against the
A/A false-alarm rate at the same settings (issue 11's acceptance item).

    python3 bench/moderate_change/run.py [--gogc 100] [--pairs 5,10,20,40] [--trials 3]

The change: Go's garbage collector on an allocation-heavy standard-library benchmark
(encoding/json's BenchmarkCodeDecoder, 92,696 allocations and 9 MB per op), GOGC=off
(A, no collection) against GOGC=--gogc (B). Each variant is a wrapper script that sets
GOGC and execs the same test binary, so ``perflab ab JOB a.sh b.sh`` runs them
interleaved (ABBA) and compares them on paired ratios; A/A is ``perflab ab JOB a.sh
a-copy.sh`` (two files, the same setting). For each number of pairs, each trial runs
one A/B and one A/A experiment, alternately, and prints the time row's verdict, its
median pair ratio and CI, and whether the run could be measured (a run flagged
contaminated is exit 4, "could not measure", whatever the ratio). The first A/B
experiment's ratio is the change's size (the issue asks for 15-30%).

Everything goes to a private PERFLAB_HOME (printed), so the runs stay out of yours.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = Path(os.environ.get("PERFLAB_BENCH_CACHE", "/tmp/perflab-moderate-change"))
BENCH = "BenchmarkCodeDecoder"

JOB = """\
# written by bench/moderate_change/run.py
name: moderate-gogc
description: encoding/json CodeDecoder, GOGC=off against a collecting GC, interleaved
workdir: {workdir}
env: {{GOFLAGS: ""}}
benchmarks:
  - name: json
    command: '"$PERFLAB_AB_BINARY" -test.run "^$" -test.bench "^{bench}$" -test.benchtime 3x'
    format: go
repetitions: {{warmup: 1, runs: {pairs}}}
timeout: {{repetition: 2m, job: 30m}}
"""


def goroot() -> Path:
    out = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def build() -> Path:
    """encoding/json's test binary (built once, cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    binary = CACHE / "json.test"
    if not binary.exists():
        env = {**os.environ, "GOCACHE": str(CACHE / "gocache"), "GOFLAGS": ""}
        subprocess.run(
            ["go", "test", "-c", "-o", str(binary), "encoding/json"], env=env, check=True
        )
    return binary


def wrapper(name: str, gogc: str, binary: Path) -> Path:
    path = CACHE / name
    path.write_text(f'#!/bin/sh\nGOGC={gogc} exec {binary} "$@"\n')
    path.chmod(0o755)
    return path


def experiment(job: Path, a: Path, b: Path) -> dict:
    """One `perflab ab`: exit status, the time row's verdict, ratio and CI."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "perflab", "--no-color", "ab", str(job), str(a), str(b), "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seconds = time.monotonic() - began
    try:
        doc = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"exit": done.returncode, "error": done.stderr.strip()[-300:], "seconds": seconds}
    rows = [r for r in (doc.get("comparison") or {}).get("rows", []) if r["metric"] == "time"]
    if not rows:
        return {"exit": done.returncode, "error": "no time row", "seconds": seconds}
    row = rows[0]
    return {
        "exit": done.returncode,
        "verdict": row["verdict"],
        "ratio": row.get("ratio"),
        "ci": row.get("ratio_ci"),
        "raw": raw_call(row),
        "unmeasured": row.get("unmeasured") or [],
        "seconds": seconds,
    }


def raw_call(row: dict) -> str:
    """What the decision interval alone says (beyond the noise band one way or the
    other), for rows the flags keep from a verdict: "regressed", "improved" or "-"."""
    band = row.get("noise_band") or 0.01
    lo, hi = row.get("decision_ci") or (None, None)
    if lo is None or hi is None:
        return "-"
    if lo > 1 + band:
        return "regressed"
    if hi < 1 - band:
        return "improved"
    return "-"


def shown(found: dict) -> str:
    if "error" in found:
        return f"exit {found['exit']}: {found['error']}"
    ci = found["ci"] or (float("nan"), float("nan"))
    tail = (
        f" (could not measure: {', '.join(found['unmeasured'])}; decision interval alone: "
        f"{found['raw']})"
        if found["unmeasured"]
        else ""
    )
    return (
        f"exit {found['exit']} {found['verdict']:<9} {found['ratio'] - 1:+.1%} "
        f"[{ci[0] - 1:+.1%}, {ci[1] - 1:+.1%}]{tail} {found['seconds']:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gogc", default="100", help="B's GOGC (A: off)")
    parser.add_argument("--pairs", default="5,10,20,40", help="numbers of A/B pairs")
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    pairs = [int(p) for p in args.pairs.split(",")]
    home = Path(tempfile.mkdtemp(prefix="perflab-moderate-home-"))
    os.environ["PERFLAB_HOME"] = str(home)
    os.environ.pop("PERFLAB_DB_URL", None)
    binary = build()
    a, a_copy = wrapper("a.sh", "off", binary), wrapper("a-copy.sh", "off", binary)
    b = wrapper("b.sh", args.gogc, binary)
    workdir = goroot() / "src" / "encoding" / "json"  # its testdata/code.json.gz
    print(f"PERFLAB_HOME={home}; load average at start {os.getloadavg()}; {os.cpu_count()} CPUs")
    print(f"A: GOGC=off, B: GOGC={args.gogc}; {BENCH} -test.benchtime 3x, one process a pair")
    calls: dict[str, dict[int, list[dict]]] = {"A/B": {}, "A/A": {}}
    began = time.monotonic()
    for trial in range(1, args.trials + 1):
        for n in pairs:
            job = CACHE / f"job-{n}.yaml"
            job.write_text(JOB.format(workdir=workdir, bench=BENCH, pairs=n))
            for kind, other in (("A/B", b), ("A/A", a_copy)):
                found = experiment(job, a, other)
                calls[kind].setdefault(n, []).append(found)
                print(f"trial {trial} pairs {n:>3} {kind}: {shown(found)}", flush=True)
    print(f"\nload average at the end {os.getloadavg()}; {time.monotonic() - began:.0f} s in all")
    print(
        "pairs | A/B regressed | A/B could not measure | A/B decision interval alone "
        "regressed | A/A false alarms | A/A could not measure | A/A decision interval alone "
        "called"
    )
    for n in pairs:
        ab, aa = calls["A/B"][n], calls["A/A"][n]
        ab_v = Counter(f.get("verdict") for f in ab)
        aa_v = Counter(f.get("verdict") for f in aa)
        print(
            f"{n:>5} | {ab_v['regressed']}/{len(ab)} | "
            f"{sum(bool(f.get('unmeasured')) for f in ab)}/{len(ab)} | "
            f"{sum(f.get('raw') == 'regressed' for f in ab)}/{len(ab)} | "
            f"{aa_v['regressed'] + aa_v['improved']}/{len(aa)} | "
            f"{sum(bool(f.get('unmeasured')) for f in aa)}/{len(aa)} | "
            f"{sum(f.get('raw') in ('regressed', 'improved') for f in aa)}/{len(aa)}"
        )
    first = [
        min((n for n in pairs if calls["A/B"][n][t].get("verdict") == "regressed"), default=None)
        for t in range(args.trials)
    ]
    print(f"fewest pairs that called the change, per trial: {first}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
