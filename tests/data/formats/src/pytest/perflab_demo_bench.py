"""Tiny pytest-benchmark suite whose JSON output feeds perflab's format tests.

regenerate.sh copies it as test_perflab_demo.py; named so that the project's own test run
does not collect it.
"""

import pytest


def test_join(benchmark):
    benchmark(lambda: ",".join(["perflab"] * 16))


@pytest.mark.parametrize("n", [16, 256])
def test_sort(benchmark, n):
    data = [(i * 7919) % n for i in range(n)]
    benchmark(sorted, data)


@pytest.mark.parametrize(("kind", "size"), [("list", 8), ("tuple", 8)])
def test_build(benchmark, kind, size):
    make = list if kind == "list" else tuple
    benchmark.pedantic(make, args=(range(size),), rounds=5, iterations=10)
