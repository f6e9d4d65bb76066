"""perflab's E-divisive change points against Apache Otava's (the oracle), on series
recorded on this lab's VM (tests/data/changepoints/recorded.json, written by
record.py there) and on seeded series with known steps.

Otava allows a regime of one point; perflab's default needs two (one odd run is an
outlier, not a regime), so the oracle is compared with ``min_size=1`` exactly and the
default must find a subset of Otava's points.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from perflab.stats import change_points

RECORDED = Path(__file__).resolve().parents[1] / "data" / "changepoints" / "recorded.json"


def _otava() -> object:
    """Otava's detector. Not in the [test] extra (its numpy/scipy pins conflict with
    .ci/constraints.txt), so it skips when missing, also under PERFLAB_REQUIRE_ALL unless
    PERFLAB_REQUIRE_OTAVA=1."""
    try:
        from otava.analysis import compute_change_points
    except ImportError as exc:
        if os.environ.get("PERFLAB_REQUIRE_OTAVA") == "1":
            pytest.fail(f"apache-otava is not installed: {exc}")
        pytest.skip("apache-otava is not installed (pip install --no-deps apache-otava)")
    return compute_change_points


def _series() -> dict[str, list[float]]:
    recorded = json.loads(RECORDED.read_text())["series"]
    rng = np.random.default_rng(12)
    for seed in range(6):
        steps = rng.choice([0.8, 1.0, 1.15, 1.3], size=3)
        parts = [
            rng.normal(100.0 * s, 2.0, int(n))
            for s, n in zip(steps, rng.integers(8, 40, size=3), strict=True)
        ]
        recorded[f"seeded-{seed}"] = np.concatenate(parts).tolist()
    return recorded


SERIES = _series()


class TestAgainstOtava:
    @pytest.mark.parametrize("name", sorted(SERIES))
    def test_same_change_points(self, name: str) -> None:
        """Same indices as Otava's compute_change_points at p = 0.001 (window 50)."""
        compute = _otava()
        series = SERIES[name]
        theirs, _ = compute(series, window_len=50, max_pvalue=0.001)  # type: ignore[operator]
        ours = change_points(series, pvalue=0.001, window=50, min_size=1)
        assert [c.index for c in ours] == [int(c.index) for c in theirs]
        default = {c.index for c in change_points(series)}
        assert default <= {int(c.index) for c in theirs}

    def test_recorded_series_have_steps(self) -> None:
        """The recorded series are not trivial: the detectors find steps in two of them."""
        _otava()
        found = {
            name: [c.index for c in change_points(SERIES[name], min_size=1)]
            for name in ("flat", "down_then_up", "step_up_20pct")
        }
        assert sum(bool(v) for v in found.values()) >= 2
