"""The signed-rank test perflab computes itself (exact with ties up to 50 pairs) against
every sign assignment enumerated, and against scipy where scipy is exact or approximate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from scipy.stats import rankdata

from perflab.stats.signedrank import signed_rank_pvalue

ALTERNATIVES = ("greater", "less", "two-sided")


def enumerated(d: np.ndarray, alternative: str) -> float:
    """The exact p-value by listing all 2^n sign assignments (zeros dropped, mid-ranks)."""
    d = d[d != 0]
    n = d.size
    if n == 0:
        return 1.0
    ranks = rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    signs = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    sums = signs @ ranks
    greater = np.mean(sums >= observed - 1e-9)
    less = np.mean(sums <= observed + 1e-9)
    return {"greater": greater, "less": less, "two-sided": min(1.0, 2 * min(greater, less))}[
        alternative
    ]


class TestExact:
    @pytest.mark.parametrize("seed", range(40))
    def test_ties_and_zeros_as_enumerated(self, seed: int) -> None:
        """Rounded differences: ties and zeros, where scipy falls back to a permutation loop."""
        rng = np.random.default_rng(seed)
        d = np.round(rng.normal(0.3, 1.0, int(rng.integers(1, 13))), 1 if seed % 2 else 0)
        for alternative in ALTERNATIVES:
            assert signed_rank_pvalue(d, alternative) == pytest.approx(
                enumerated(d, alternative), abs=1e-12
            )

    @pytest.mark.parametrize("n", [3, 8, 20, 50])
    def test_without_ties_as_scipy_exact(self, n: int) -> None:
        d = np.random.default_rng(n).normal(0.3, 1.0, n)
        for alternative in ALTERNATIVES:
            theirs = sps.wilcoxon(d, alternative=alternative, method="exact").pvalue
            assert signed_rank_pvalue(d, alternative) == pytest.approx(theirs, rel=1e-9)

    def test_count_metric_pairs(self) -> None:
        """Context switches 4 vs 5 in 7 of 8 pairs, one tie at 0: all seven up, tied."""
        d = np.log(np.array([5, 5, 5, 5, 5, 5, 5, 4]) / 4.0)
        assert signed_rank_pvalue(d, "greater") == pytest.approx(1 / 128)
        assert signed_rank_pvalue(d, "two-sided") == pytest.approx(2 / 128)

    def test_all_zero_and_bad_alternative(self) -> None:
        assert signed_rank_pvalue(np.zeros(5)) == 1.0
        with pytest.raises(ValueError, match="alternative"):
            signed_rank_pvalue(np.ones(3), "sideways")


class TestApproximate:
    @pytest.mark.parametrize("n", [60, 200])
    def test_above_fifty_as_scipy_normal_with_tie_correction(self, n: int) -> None:
        d = np.round(np.random.default_rng(n).normal(0.1, 1.0, n), 1)
        d = d[d != 0]
        assert d.size > 50
        for alternative in ALTERNATIVES:
            theirs = sps.wilcoxon(d, alternative=alternative, method="approx").pvalue
            assert signed_rank_pvalue(d, alternative) == pytest.approx(theirs, rel=1e-9)
