"""A/B mode: interleaving orders and paired comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from perflab.stats import abba_order, compare_paired, compare_samples


def drifting(factor: float, seed: int, n: int = 20) -> tuple[list[float], list[float]]:
    """A/B pairs on a host drifting 6% over the job; B is slower by ``factor``."""
    rng = np.random.default_rng(seed)
    drift = 100 * np.linspace(1.0, 1.06, n)
    return (
        list(drift * rng.lognormal(0, 0.003, n)),
        list(drift * factor * rng.lognormal(0, 0.003, n)),
    )


class TestAbbaOrder:
    def test_abba_pattern(self) -> None:
        """Pairs alternate AB, BA: ABBAABBA for four pairs."""
        assert "".join(abba_order(4)) == "ABBAABBA"
        assert abba_order(0) == []

    def test_randomised_is_seeded_and_balanced(self) -> None:
        """Random order is reproducible per seed; every pair holds one A and one B."""
        order = abba_order(50, randomise=True, seed=3)
        assert order == abba_order(50, randomise=True, seed=3)
        assert order != abba_order(50, randomise=True, seed=4)
        assert all({order[2 * i], order[2 * i + 1]} == {"A", "B"} for i in range(50))

    def test_negative_count_is_an_error(self) -> None:
        """A negative number of pairs is a programming error."""
        with pytest.raises(ValueError, match="n_pairs"):
            abba_order(-1)


class TestComparePaired:
    def test_pairs_remove_host_drift(self) -> None:
        """A 2% regression under 6% host drift: unpaired cannot decide, paired can."""
        a, b = drifting(1.02, seed=1)
        assert compare_samples(a, b).verdict == "unknown"
        paired = compare_paired(a, b)
        assert paired.verdict == "regressed" and paired.paired
        assert paired.test == "wilcoxon-signed-rank" and paired.mwu_pvalue is None
        assert paired.ratio == pytest.approx(1.02, abs=0.005)

    def test_no_change_under_drift(self) -> None:
        """Without a change, drift does not make paired A/B report one."""
        a, b = drifting(1.0, seed=2)
        assert compare_paired(a, b).verdict in ("same", "unknown")

    def test_wilcoxon_matches_scipy(self) -> None:
        """The p-value is scipy's two-sided Wilcoxon signed-rank of the log-ratios."""
        a, b = drifting(1.01, seed=3)
        expected = sps.wilcoxon(np.log(b) - np.log(a)).pvalue
        assert compare_paired(a, b).pvalue == pytest.approx(expected)

    def test_mismatched_lengths_are_not_comparable(self) -> None:
        """Paired mode needs equal lengths; the reason gives both counts."""
        r = compare_paired([1.0, 2.0, 3.0], [1.0, 2.0])
        assert r.verdict == "not_comparable" and "got 3 and 2" in r.reason

    def test_numpy_inputs_and_zero_pairs(self) -> None:
        """numpy arrays work like lists; a zero in a pair is not_comparable (no log-ratio)."""
        a, b = drifting(1.0, seed=5)
        assert compare_paired(np.array(a), np.array(b)).verdict in ("same", "unknown")
        r = compare_paired(np.array([1.0, 2.0, 0.0, 2.0]), np.array([1.0, 2.0, 3.0, 4.0]))
        assert r.verdict == "not_comparable" and "pair 3 has a zero" in r.reason
        r = compare_paired(np.array([1.0, 2.0]), np.array([1.0]))
        assert "got 2 and 1" in r.reason

    def test_direction_higher(self) -> None:
        """For throughput a paired 3% drop is a regression."""
        a, b = drifting(0.97, seed=4)
        assert compare_paired(a, b, direction="higher").verdict == "regressed"
