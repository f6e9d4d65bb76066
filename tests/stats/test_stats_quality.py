"""Quality flags: each fires on the data it describes and stays quiet on clean data."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.stats import quality_flags
from perflab.stats.quality import bimodal_threshold, flag_rows, mann_kendall


def codes(values: object, **kwargs: object) -> set[str]:
    return {f.code for f in quality_flags(values, **kwargs)}  # type: ignore[arg-type]


def clean(n: int, seed: int = 0, cv: float = 0.01) -> list[float]:
    return list(np.random.default_rng(seed).lognormal(np.log(100), cv, n))


class TestQualityFlags:
    def test_clean_data_has_no_warnings(self) -> None:
        """30 log-normal samples with 1% CV raise no warning-level flag."""
        flags = quality_flags(clean(30, seed=4))
        assert [f.code for f in flags if f.severity == "warning"] == []

    def test_high_cv(self) -> None:
        """CV above the limit is flagged with the CV and the limit as evidence."""
        flags = [f for f in quality_flags(clean(20, cv=0.10), cv_limit=0.05) if f.code == "high_cv"]
        assert flags and flags[0].evidence["limit"] == 0.05
        assert "above the limit of 5.0%" in flags[0].message

    def test_too_few_samples_for_the_test(self) -> None:
        """3 samples per side cannot reach p <= 0.05; 4 can (2/70 < 0.05)."""
        assert "too_few_samples" in codes([1.0, 2.0, 3.0])
        assert "too_few_samples" not in codes([1.0, 2.0, 3.0, 4.0])
        assert "too_few_samples" in codes([1.0, 2.0, 3.0, 4.0], alpha=0.01)

    def test_tail_too_tight_seed_002(self) -> None:
        """P95/P50 of 1.008 on a distributed workload expected >= 1.05 is flagged."""
        values = np.linspace(100.0, 101.8, 40)
        np.random.default_rng(0).shuffle(values)
        flags = [f for f in quality_flags(values, expected_tail=1.05) if f.code == "tail_too_tight"]
        assert flags and flags[0].evidence["p95_over_p50"] == pytest.approx(1.008, abs=0.001)
        assert "tail_too_tight" not in codes(values)  # no expectation given: not flagged

    def test_identical_samples_are_too_tight(self) -> None:
        """Ten identical numbers are not measurements."""
        assert "tail_too_tight" in codes([12.0] * 10)

    def test_bimodal(self) -> None:
        """Two clear modes 8% apart are flagged; one mode is not."""
        rng = np.random.default_rng(1)
        values = np.r_[rng.normal(100, 0.5, 14), rng.normal(108, 0.5, 6)]
        rng.shuffle(values)
        flags = [f for f in quality_flags(values) if f.code == "bimodal"]
        assert flags and flags[0].evidence["high_count"] == 6
        assert "bimodal" not in codes(clean(20, seed=2))

    def test_bimodal_false_alarm_rate_is_low(self) -> None:
        """On unimodal log-normal data the bimodal flag fires for about 1% of runs or less."""
        rows = np.random.default_rng(5).lognormal(0, 0.02, (4000, 20))
        fired = sum(any(f.code == "bimodal" for f in flags) for flags in flag_rows(rows))
        assert fired / 4000 < 0.015
        assert bimodal_threshold(20) > bimodal_threshold(200)

    def test_trend_across_repetitions(self) -> None:
        """A 4% warm-up drift over 20 repetitions is flagged; the same values shuffled are not."""
        rng = np.random.default_rng(3)
        values = 100 * np.linspace(1.04, 1.0, 20) * rng.lognormal(0, 0.003, 20)
        flags = [f for f in quality_flags(values) if f.code == "trend"]
        assert flags and flags[0].evidence["drift"] == pytest.approx(-0.04, abs=0.01)
        shuffled = values.copy()
        np.random.default_rng(9).shuffle(shuffled)
        assert "trend" not in codes(shuffled)

    def test_mann_kendall_matches_kendall_tau(self) -> None:
        """The vectorised Mann-Kendall p-value agrees with scipy's Kendall tau test (no ties)."""
        from scipy import stats as sps

        x = np.random.default_rng(7).normal(size=(5, 25)) + np.linspace(0, 1, 25)
        p, _ = mann_kendall(x)
        for row, pv in zip(x, p, strict=True):
            ref = sps.kendalltau(np.arange(25), row, method="asymptotic").pvalue
            assert pv == pytest.approx(ref, rel=0.1)

    def test_outliers_mild_and_extreme(self) -> None:
        """Tukey's fences: one mild and one extreme outlier are counted and located."""
        values = [10.0, 10.1, 10.2, 10.0, 10.1, 9.9, 10.0, 10.2, 10.1, 9.9, 10.6, 13.0]
        flags = [f for f in quality_flags(values) if f.code == "outliers"]
        assert flags and flags[0].evidence == {"mild": 1, "extreme": 1, "n": 12}
        assert flags[0].severity == "warning"
        assert "repetition 11, 12" in flags[0].message

    def test_noisy_host(self) -> None:
        """A failed noise probe becomes a flag carrying the probe's finding."""
        flags = quality_flags(clean(10), noise_probe_failure="CPU 3: 17% steal")
        assert flags[0].code == "noisy_host" and "17% steal" in flags[0].message

    @pytest.mark.parametrize("bad", [[], [1.0, float("nan")], ["x"], None])
    def test_invalid_samples(self, bad: object) -> None:
        """Unusable samples give an invalid_samples flag, not an exception."""
        assert "invalid_samples" in codes(bad)
