"""A small CPU-bound workload: sort N pseudo-random numbers (deterministic)."""

import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
rng = random.Random(42)
values = [rng.random() for _ in range(n)]
values.sort()
print(f"sorted {n} numbers; median {values[n // 2]:.6f}")
