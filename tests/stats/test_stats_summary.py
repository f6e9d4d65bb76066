"""Summaries: known answers, the order-statistic median CI, quantile CIs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from perflab.stats import StatsInputError, summarize
from perflab.stats.summary import median_ci_ranks, quantile_ci


class TestSummarize:
    def test_known_values(self) -> None:
        """Mean, median, stdev, CV, min, max and percentiles of 1..10 match hand values."""
        s = summarize([float(v) for v in range(1, 11)])
        assert s.n == 10
        assert s.mean == pytest.approx(5.5)
        assert s.median == pytest.approx(5.5)
        assert s.stdev == pytest.approx(math.sqrt(110 / 12))
        assert s.cv == pytest.approx(math.sqrt(110 / 12) / 5.5)
        assert (s.min, s.max) == (1.0, 10.0)
        assert s.p90 == pytest.approx(9.1)
        assert s.p95 == pytest.approx(9.55)
        assert s.p99 == pytest.approx(9.91)

    def test_median_ci_by_order_statistics(self) -> None:
        """For n = 10 the 95% median CI is [x(2), x(9)] with coverage 1 - 2 P(B <= 1)."""
        s = summarize([float(v) for v in range(1, 11)])
        assert s.median_ci == (2.0, 9.0)
        assert s.median_ci_level == pytest.approx(1 - 2 * sps.binom.cdf(1, 10, 0.5))
        assert s.median_ci_level >= 0.95

    def test_small_sample_ci_is_range_with_true_level(self) -> None:
        """With 5 samples no order statistics reach 95%: [min, max] at 93.75% is reported."""
        s = summarize([3.0, 1.0, 2.0, 5.0, 4.0])
        assert s.median_ci == (1.0, 5.0)
        assert s.median_ci_level == pytest.approx(1 - 2 / 32)

    def test_single_sample(self) -> None:
        """One sample: stdev and CV are undefined (NaN in the dataclass, null in JSON)."""
        s = summarize([7.0])
        assert math.isnan(s.stdev) and math.isnan(s.cv)
        assert s.to_dict()["stdev"] is None

    @pytest.mark.parametrize("bad", [[], [1.0, math.nan], [1.0, math.inf]])
    def test_rejects_unusable_samples(self, bad: list[float]) -> None:
        """Empty or non-finite samples are a clear StatsInputError."""
        with pytest.raises(StatsInputError):
            summarize(bad)

    def test_to_dict_is_json_ready(self) -> None:
        """to_dict contains only plain numbers, lists and None."""
        import json

        json.dumps(summarize([1.0, 2.0, 3.0]).to_dict(), allow_nan=False)


class TestMedianCiRanks:
    def test_coverage_is_at_least_the_confidence(self) -> None:
        """For every n from 6 to 60 the chosen ranks cover the median with >= 95%."""
        for n in range(6, 61):
            lo, hi, level = median_ci_ranks(n, 0.95)
            assert level >= 0.95
            assert lo == n - 1 - hi  # symmetric

    def test_matches_simulation(self) -> None:
        """The stated coverage agrees with simulated coverage for n = 20."""
        rng = np.random.default_rng(0)
        lo, hi, level = median_ci_ranks(20, 0.95)
        x = np.sort(rng.normal(size=(20000, 20)), axis=1)
        covered = np.mean((x[:, lo] <= 0) & (x[:, hi] >= 0))
        assert covered == pytest.approx(level, abs=0.01)


class TestQuantileCi:
    def test_p99_upper_bound_needs_many_samples(self) -> None:
        """30 samples cannot bound p99 from above at 95%: the upper end is infinite."""
        lo, hi, _ = quantile_ci(np.arange(1.0, 31.0), 0.99, 0.95)
        assert math.isinf(hi) and math.isfinite(lo)

    def test_coverage_by_simulation(self) -> None:
        """The p90 CI from 200 samples covers the true p90 at least 95% of the time."""
        rng = np.random.default_rng(1)
        truth = sps.norm.ppf(0.9)
        hits = 0
        for _ in range(400):
            lo, hi, level = quantile_ci(np.sort(rng.normal(size=200)), 0.9, 0.95)
            hits += lo <= truth <= hi
            assert level >= 0.95
        assert hits / 400 >= 0.93


class TestNearTheFloatLimit:
    """Samples near 1e308 overflow sums and medians (seen by a property test in CI as a
    RuntimeWarning on stderr): the statistics are then unbounded, quietly."""

    @pytest.mark.filterwarnings("error")
    @pytest.mark.parametrize("rows", [1, 2500], ids=["one row", "threaded group"])
    def test_no_numpy_warning_and_json_safe(self, rows: int) -> None:
        import json

        from perflab.stats import CompareInput, compare_many

        items = [
            CompareInput([1.5e308, 1.7e308] * 15, [1.6e308, 1.7e308] * 15, benchmark=str(i))
            for i in range(rows)
        ]
        report = compare_many(items)
        row = report.rows[0]
        assert row.base is not None and math.isinf(row.base.mean)
        json.dumps(report.to_dict(), allow_nan=False)
        assert {r.verdict for r in report.rows} <= {"unknown", "same", "regressed", "improved"}
