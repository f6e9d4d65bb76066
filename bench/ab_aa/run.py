"""A/A with `perflab ab`: two copies of one program, interleaved, how often is one called changed?

    python3 bench/ab_aa/run.py measure --runs 120 --pairs 8      # ~5 min on this VM
    python3 bench/ab_aa/run.py resample --trials 3000 --pairs 8 --band 0.01

``measure`` writes a Python script (20 ms: interpreter start and ``sum(range(10**6))``)
and a byte-for-byte copy, and runs ``perflab ab JOB one two --json`` ``--runs`` times on
the local runner (into ``$PERFLAB_HOME``), keeping every JSON document under ``--out``.
It prints the exit statuses and every regressed or improved row: each is a false alarm.

``resample`` takes the processes those runs measured (both arms pooled: nothing differs
between them), draws ``--pairs`` A/B pairs at random ``--trials`` times, and compares
them as ``perflab ab`` does (paired rows, every metric of ``format: time``, the FDR
step over them): the false-alarm rate at other sizes and bands without running more.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

JOB = """\
name: ab-aa
benchmarks:
  - name: work
    command: '"$PERFLAB_AB_BINARY"'
    format: time
repetitions: {{warmup: 0, runs: {pairs}}}
compare: {{noise_band: {band}}}
"""


def measure(runs: int, pairs: int, band: float, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ab-aa-"))
    one, two = work / "one", work / "two"
    one.write_text(f"#!{sys.executable}\nsum(range(1_000_000))\n")
    one.chmod(0o755)
    two.write_bytes(one.read_bytes())
    two.chmod(0o755)
    job = work / "job.yaml"
    job.write_text(JOB.format(pairs=pairs, band=band))
    codes: Counter[int] = Counter()
    called: list[str] = []
    began = time.monotonic()
    for i in range(runs):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perflab",
                "--no-color",
                "ab",
                str(job),
                str(one),
                str(two),
                "--json",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        codes[done.returncode] += 1
        (out / f"r{i + 1}.json").write_text(done.stdout)
        if done.stdout:
            for row in json.loads(done.stdout)["comparison"]["rows"]:
                if row["verdict"] in ("regressed", "improved"):
                    called.append(f"run {i + 1}: {row['metric']} {row['verdict']}: {row['reason']}")
    print(f"{runs} runs of {pairs} pairs, band {band:.0%}, {time.monotonic() - began:.0f} s")
    print("exit statuses:", dict(sorted(codes.items())))
    print(f"false alarms: {len(called)} rows in {codes[2]} runs")
    for line in called:
        print(" ", line)


def resample(source: Path, trials: int, pairs: int, band: float, seed: int) -> None:
    import numpy as np

    from perflab.stats import CompareInput, compare_many

    processes: list[dict[str, float]] = []
    for path in sorted(source.glob("r*.json")):
        text = path.read_text()
        if not text:
            continue
        for run in json.loads(text)["runs"]:
            metrics = run["benchmarks"][0]["metrics"]
            count = len(metrics["wall_time"]["samples"])
            processes += [{k: v["samples"][i] for k, v in metrics.items()} for i in range(count)]
    names = sorted(processes[0])
    rng = np.random.default_rng(seed)
    alarms = unmeasured = 0
    for _ in range(trials):
        drawn = rng.choice(len(processes), size=2 * pairs, replace=False)
        items = [
            CompareInput(
                base=[processes[i][m] for i in drawn[:pairs]],
                cand=[processes[i][m] for i in drawn[pairs:]],
                direction="lower",
                benchmark="work",
                metric=m,
                paired=True,
            )
            for m in names
        ]
        rows = compare_many(items, noise_band=band).rows
        alarms += any(r.verdict in ("regressed", "improved") for r in rows)
        unmeasured += any(r.unmeasured for r in rows)
    print(
        f"{len(processes)} processes, {trials} trials of {pairs} pairs, band {band:.0%}: "
        f"false alarms {alarms} ({alarms / trials:.2%}), unmeasured {unmeasured} "
        f"({unmeasured / trials:.2%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("measure", "resample"):
        one = sub.add_parser(name)
        one.add_argument("--pairs", type=int, default=8)
        one.add_argument("--band", type=float, default=0.01)
        one.add_argument("--out", type=Path, default=Path("ab-aa-runs"))
    sub.choices["measure"].add_argument("--runs", type=int, default=120)
    sub.choices["resample"].add_argument("--trials", type=int, default=3000)
    sub.choices["resample"].add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.what == "measure":
        measure(args.runs, args.pairs, args.band, args.out)
    else:
        resample(args.out, args.trials, args.pairs, args.band, args.seed)


if __name__ == "__main__":
    main()
