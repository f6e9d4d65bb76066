"""Speed benchmark: compare 10,000 benchmarks x 30 samples a side (target <= 2 s).

Times ``compare_many`` end to end (validation, summaries, quality flags,
Mann-Whitney U and the band test, Benjamini-Hochberg, the median-ratio
bootstrap with the default 2000 resamples, the geometric-mean row), best of a
few rounds (wall and CPU time: on a shared machine the CPU time shows what the
code costs), and ``to_dict()`` of the whole report separately.

    python3 bench/detection/speed.py [--benchmarks 10000] [--samples 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from perflab.stats import CompareInput, compare_many

TARGET_S = 2.0


def make_items(count: int, n: int, seed: int) -> list[CompareInput]:
    rng = np.random.default_rng(seed)
    base = rng.lognormal(np.log(100.0), 0.02, (count, n))
    shift = np.where(rng.random(count) < 0.05, 1.05, 1.0)[:, None]
    cand = rng.lognormal(np.log(100.0), 0.02, (count, n)) * shift
    return [
        CompareInput(
            base=list(base[i]), cand=list(cand[i]), benchmark=f"BM_{i}", metric="time", unit="ns"
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    items = make_items(args.benchmarks, args.samples, seed=3)
    best, best_cpu = float("inf"), float("inf")
    for _ in range(args.rounds):
        started, cpu = time.perf_counter(), time.process_time()
        report = compare_many(items)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    started = time.perf_counter()
    report.to_dict()
    dict_time = time.perf_counter() - started
    print(
        f"compare_many: {args.benchmarks} benchmarks x {args.samples} samples a side: "
        f"{best:.2f} s wall, {best_cpu:.2f} s CPU (best of {args.rounds}; target <= "
        f"{TARGET_S:.0f} s: {'met' if best <= TARGET_S else 'NOT met'})"
    )
    print(
        f"to_dict of the report: {dict_time:.2f} s; verdicts: {report.counts()}; "
        f"geometric mean: {report.summary[0].reason}"
    )


if __name__ == "__main__":
    main()
