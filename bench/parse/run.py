"""Parsing speed: a ~4 MB pytest-benchmark JSON with saved per-round data (target <= 0.5 s).

    python3 bench/parse/run.py [--mb 4] [--repeat 5]

Scales up the real pytest-benchmark output in tests/data/formats/pytest-benchmark/data.json
(same document shape, same indentation as pytest-benchmark writes it): its benchmarks are
copied under new names and their rounds resampled from the real timings until the file
reaches the requested size. Prints the best time of several parse_path calls, the target,
and plain json.load of the same file for scale.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from perflab.formats import parse_path  # noqa: E402

REAL = REPO / "tests/data/formats/pytest-benchmark/data.json"
TARGET_S = 0.5
ROUNDS = 2000  # rounds per scaled benchmark


def build(size_mb: float, out: Path) -> tuple[int, int]:
    """Write the scaled document; return (benchmarks, rounds)."""
    real = json.loads(REAL.read_text())
    rng = random.Random(42)
    doc = copy.deepcopy(real)
    doc["benchmarks"] = []
    per_bench = len(json.dumps({"benchmarks": [_scaled(real["benchmarks"][0], 0, rng)]}, indent=4))
    count = max(1, int(size_mb * 1e6 / per_bench))
    for index in range(count):
        doc["benchmarks"].append(
            _scaled(real["benchmarks"][index % len(real["benchmarks"])], index, rng)
        )
    out.write_text(json.dumps(doc, indent=4))
    return count, count * ROUNDS


def _scaled(bench: dict, index: int, rng: random.Random) -> dict:
    copied = copy.deepcopy(bench)
    copied["name"] = f"{bench['name']}#{index}"
    copied["fullname"] = f"{bench['fullname']}#{index}"
    real = bench["stats"]["data"]
    copied["stats"]["data"] = [rng.choice(real) * rng.uniform(0.95, 1.05) for _ in range(ROUNDS)]
    copied["stats"]["rounds"] = ROUNDS
    return copied


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="perflab-bench-parse-") as tmp:
        path = Path(tmp) / "pytest-benchmark.json"
        benches, rounds = build(args.mb, path)
        size = path.stat().st_size / 1e6
        result = parse_path(path)
        assert result.sample_count() == rounds, (result.sample_count(), rounds)
        parse_s = best_of(args.repeat, lambda: parse_path(path))
        load_s = best_of(args.repeat, lambda: json.loads(path.read_text()))
    verdict = "OK" if parse_s <= TARGET_S else "TOO SLOW"
    print(f"pytest-benchmark JSON: {size:.1f} MB, {benches} benchmarks, {rounds} rounds")
    print(
        f"parse_path (auto):  best {parse_s:.3f} s of {args.repeat}  "
        f"(target <= {TARGET_S} s: {verdict})"
    )
    print(
        f"json.loads alone:   best {load_s:.3f} s  (parse_path / json.loads = "
        f"{parse_s / load_s:.2f}x)"
    )
    return 0 if parse_s <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
