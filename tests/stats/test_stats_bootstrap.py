"""The rank-table bootstrap: same answers as resampling, mirrored, decorrelated across rows."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.stats import CompareInput, compare_many
from perflab.stats.bootstrap import (
    log_median_replicates,
    log_ratio_replicates,
    median_ranks,
    percentile_bounds,
    percentile_bounds_multi,
)
from perflab.stats.hierarchy import flat_replicates


class TestRankTables:
    @pytest.mark.parametrize("n", [1, 2, 5, 6, 30])
    def test_same_medians_as_resampling(self, n: int) -> None:
        """Replicate medians from the rank table equal medians of the actually resampled values."""
        rng = np.random.default_rng(n)
        x = np.sort(rng.lognormal(0, 0.1, n))
        draws = np.sort(np.random.default_rng([0, 0, n]).integers(0, n, size=(50, n)), axis=1)
        direct = np.median(x[draws], axis=1)
        logs, which = log_median_replicates(x[None, :], 50, 0, 0)
        via_table = np.exp(logs[0, which[:50]])
        assert via_table == pytest.approx(direct, rel=1e-14)
        assert len(set(which.tolist())) == logs.shape[1] < 100  # the distinct pairs only
        lo, hi = median_ranks(n, 50, 0, 0)
        assert np.all(lo <= hi)

    def test_mirrored_replicates_invert_exactly(self) -> None:
        """Swapping sides negates the replicate set exactly (halves trade places)."""
        rng = np.random.default_rng(1)
        a = np.sort(rng.lognormal(0, 0.05, (3, 9)), axis=1)
        b = np.sort(rng.lognormal(0, 0.05, (3, 12)), axis=1)
        ab = log_ratio_replicates(a, b, resamples=200, seed=4)
        ba = log_ratio_replicates(b, a, resamples=200, seed=4)
        assert np.array_equal(np.sort(ab, axis=1), np.sort(-ba, axis=1))

    def test_flat_replicates_invert_exactly(self) -> None:
        """The flat (one run) path too: a difference of logs, so swapping sides negates it."""
        rng = np.random.default_rng(3)
        a = np.sort(rng.lognormal(0, 0.05, (4, 30)), axis=1)
        b = np.sort(rng.lognormal(0, 0.05, (4, 30)), axis=1)
        spread = np.full(4, 0.1)
        ab = flat_replicates(a, b, spread, half=300, seed=2)
        ba = flat_replicates(b, a, spread, half=300, seed=2)
        assert np.array_equal(np.sort(ab, axis=1), np.sort(-ba, axis=1))

    @pytest.mark.parametrize("total", [100, 2000, 2001])
    def test_several_intervals_match_one_at_a_time(self, total: int) -> None:
        """The nested partitions give each interval exactly as a partition of the whole
        table does, for decision levels whose ranks are 0, a few, or inside the 95% ones."""
        reps = np.random.default_rng(total).standard_normal((40, total))
        for alphas in [(0.05, 0.0009), (0.05, 0.01, 0.002, 0.5), (0.0001,), (0.05, 0.05)]:
            for alpha, (lo, hi) in zip(alphas, percentile_bounds_multi(reps, alphas), strict=True):
                want = percentile_bounds(reps, alpha)
                assert np.array_equal(lo, want[0]) and np.array_equal(hi, want[1]), alpha

    def test_percentile_bounds_are_symmetric_ranks(self) -> None:
        """The 95% bounds of 0..1999 are the 51st smallest and the 51st largest values."""
        lo, hi = percentile_bounds(np.arange(2000.0)[None, :], 0.05)
        assert (lo[0], hi[0]) == (50.0, 1949.0)


class TestGeomeanCi:
    def test_rows_are_decorrelated(self) -> None:
        """The geometric mean's CI over 400 independent rows is about sqrt(400) narrower than a
        row's CI, as for independent rows (shared rank tables would make it as wide)."""
        rng = np.random.default_rng(2)
        items = [
            CompareInput(rng.lognormal(0, 0.02, 20), rng.lognormal(0, 0.02, 20), metric="t")
            for _ in range(400)
        ]
        report = compare_many(items, fdr=None)
        row_width = np.mean(
            [np.log(r.ratio_ci[1] / r.ratio_ci[0]) for r in report.rows if r.ratio_ci is not None]
        )
        summary = report.summary[0]
        assert summary.ratio_ci is not None
        width = np.log(summary.ratio_ci[1] / summary.ratio_ci[0])
        assert width == pytest.approx(row_width / 20, rel=0.3)
        assert summary.ratio_ci[0] < 1 < summary.ratio_ci[1]
