"""Stored runs on several platforms, with baselines and calibration figures."""

from __future__ import annotations

import pytest

from perflab.store import open_store
from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.compare.conftest import make_run, samples  # noqa: F401 (fixtures)

# The runs are synthetic, with no history to learn the run-to-run spread from: declared
# (the 10% assumed otherwise would leave a 20% change undecided).
GATES = {
    "name": "j",
    "gates": [{"name": "p50 bound", "metric": "time", "stat": "median", "max_increase": "5%"}],
    "compare": {"run_spread": "0%"},
}


def _benches(factor_a: float, factor_b: float, seed: int) -> dict[str, dict[str, list[float]]]:
    return {
        "BM_a": {"time": samples(100.0 * factor_a, n=20, cv=0.005, seed=seed)},
        "BM_b": {"time": samples(50.0 * factor_b, n=20, cv=0.005, seed=seed + 1)},
        "BM_c": {"time": samples(10.0, n=20, cv=0.005, seed=seed + 2)},
    }


@pytest.fixture
def lab(make_run, home):
    """Two platforms: x86 (calibration 2 ns/iter) and arm (3 ns/iter, its clock 1.5x slower).

    Against each platform's baseline: BM_a regressed 20% on both platforms, BM_b
    regressed 20% on arm only; arm's medians are 1.5x x86's (the clock), so normalised
    ratios of BM_c are 1.0. Returns (x86 run, arm run)."""
    base_x = make_run(_benches(1.0, 1.0, 1), platform="linux-x86_64", spec=GATES)
    base_a = make_run(
        {
            k: {m: [v * 1.5 for v in vs] for m, vs in ms.items()}
            for k, ms in _benches(1.0, 1.0, 11).items()
        },
        platform="linux-aarch64",
        spec=GATES,
        fingerprint="a" * 64,
    )
    cand_x = make_run(_benches(1.2, 1.0, 21), platform="linux-x86_64", spec=GATES)
    cand_a = make_run(
        {
            k: {m: [v * 1.5 for v in vs] for m, vs in ms.items()}
            for k, ms in _benches(1.2, 1.2, 31).items()
        },
        platform="linux-aarch64",
        spec=GATES,
        fingerprint="a" * 64,
    )
    with open_store() as store:
        for platform, run_id in (("linux-x86_64", base_x), ("linux-aarch64", base_a)):
            store.baselines.record(
                name="nightly",
                job="j",
                platform=platform,
                branch="main",
                benchmark="*",
                run_id=run_id,
                action="set",
                reason=None,
                set_by="test",
            )
        store.runs.update_run(cand_a, runner="arm-1")
        store.runs.update_run(base_a, runner="arm-1")
        store.calibrations.record("local", 2.0, platform="linux-x86_64")
        store.calibrations.record("arm-1", 3.0, platform="linux-aarch64")
    return cand_x, cand_a
