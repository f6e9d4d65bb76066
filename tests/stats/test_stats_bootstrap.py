"""The rank-table bootstrap: same answers as resampling, mirrored, decorrelated across rows."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.stats import CompareInput, compare_many
from perflab.stats.bootstrap import (
    log_ratio_replicates,
    median_ranks,
    median_weights,
    percentile_bounds,
)


class TestRankTables:
    @pytest.mark.parametrize("n", [1, 2, 5, 6, 30])
    def test_same_medians_as_resampling(self, n: int) -> None:
        """Replicate medians from the weights equal medians of the actually resampled values."""
        rng = np.random.default_rng(n)
        x = np.sort(rng.lognormal(0, 0.1, n))
        draws = np.sort(np.random.default_rng([0, 0, n]).integers(0, n, size=(50, n)), axis=1)
        direct = np.median(x[draws], axis=1)
        via_weights = (x[None, :] @ median_weights(n, 50, 0, 0))[0, :50]
        assert via_weights == pytest.approx(direct, rel=1e-15)
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
