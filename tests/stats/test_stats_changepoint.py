"""Change points over history: E-divisive means with a t-test merge step."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from perflab.stats import StatsInputError, change_points


def steps(*levels: tuple[float, int], sd: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(level, sd, count) for level, count in levels])


class TestChangePoints:
    def test_known_steps(self) -> None:
        """Steps at 60 and 120 are found at those indices with their magnitudes."""
        found = change_points(steps((100, 60), (110, 60), (105, 80)))
        assert [c.index for c in found] == [60, 120]
        assert found[0].change == pytest.approx(0.10, abs=0.01)
        assert found[1].change == pytest.approx(-0.045, abs=0.01)
        assert all(c.pvalue < 0.001 for c in found)
        assert found[0].before_mean == pytest.approx(100, abs=0.5)

    def test_no_step(self) -> None:
        """Stationary noise: mostly no change point, and never one beyond 3% with a floor.

        The p-value is nominal (it is computed after searching for the best
        split), so short bumps in pure noise now and then pass p = 0.001.
        """
        found = [change_points(steps((100, 300), seed=seed)) for seed in range(20)]
        assert sum(1 for f in found if f) <= 4
        assert all(c.magnitude < 0.03 for f in found for c in f)
        assert all(
            change_points(steps((100, 300), seed=s), min_magnitude=0.03) == [] for s in range(20)
        )

    def test_small_step_in_noise(self) -> None:
        """A 2% step hidden in 1% noise (series of 200) is found within a few points."""
        found = change_points(steps((100, 100), (102, 100), sd=1.0, seed=3))
        assert len(found) == 1 and abs(found[0].index - 100) <= 3

    def test_slow_drift_is_found(self) -> None:
        """A 10% drift over 200 runs, which no single comparison of neighbours catches, is
        reported as change points; min_magnitude keeps only the large steps."""
        rng = np.random.default_rng(4)
        series = 100 * np.linspace(1.0, 1.1, 200) + rng.normal(0, 0.3, 200)
        found = change_points(series)
        assert found and all(c.change > 0 for c in found)
        coarse = change_points(series, min_magnitude=0.02)
        assert 0 < len(coarse) < len(found)
        assert all(c.magnitude > 0.02 for c in coarse)

    def test_pvalue_setting(self) -> None:
        """A stricter p-value finds no more points than a looser one."""
        series = steps((100, 40), (101.5, 40), sd=1.0, seed=5)
        assert len(change_points(series, pvalue=1e-6)) <= len(change_points(series, pvalue=0.05))

    def test_short_regimes_and_min_size(self) -> None:
        """One odd run is an outlier; two in a row are a short regime (reported at both
        ends); with min_size every reported regime has at least that many points."""
        noise = np.random.default_rng(8).normal(0, 0.5, 82)
        one = np.r_[np.full(40, 100.0), [130.0], np.full(41, 100.0)] + noise
        assert change_points(one) == []
        two = np.r_[np.full(40, 100.0), [130.0, 131.0], np.full(40, 100.0)] + noise
        assert [c.index for c in change_points(two)] == [40, 42]
        edges = [0, *(c.index for c in change_points(two, min_size=4)), two.size]
        assert all(b - a >= 4 for a, b in itertools.pairwise(edges))

    def test_short_and_constant_series(self) -> None:
        """Fewer than 3 points, or a constant series: nothing to report."""
        assert change_points([1.0, 2.0]) == []
        assert change_points([5.0] * 50) == []

    def test_long_series_windows(self) -> None:
        """A step late in a 1000-point series is found with the default 50-point window."""
        found = change_points(steps((100, 900), (105, 100), seed=6))
        assert any(abs(c.index - 900) <= 2 for c in found)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"pvalue": 0}, "pvalue"),
            ({"window": 3}, "window"),
            ({"min_size": 0}, "min_size"),
            ({"min_magnitude": -1}, "min_magnitude"),
        ],
    )
    def test_bad_settings(self, kwargs: dict[str, float], field: str) -> None:
        """Nonsense settings raise StatsInputError naming the setting."""
        with pytest.raises(StatsInputError) as info:
            change_points([1.0, 2.0, 3.0], **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field

    def test_nan_is_an_error(self) -> None:
        """A stored series with NaN is refused clearly."""
        with pytest.raises(StatsInputError, match="NaN"):
            change_points([1.0, float("nan"), 2.0])

    def test_to_dict(self) -> None:
        """Change points serialise to strict JSON."""
        found = change_points(steps((100, 50), (120, 50)))
        json.dumps([c.to_dict() for c in found], allow_nan=False)
