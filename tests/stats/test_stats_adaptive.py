"""Adaptive repetitions: when to add runs and how many."""

from __future__ import annotations

import numpy as np

from perflab.stats import Budget, compare_samples, plan_repetitions


def lognormal(median: float, cv: float, n: int, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).lognormal(np.log(median), cv, n))


# a stored baseline (30 runs, 1% noise) and 6 noisy candidate runs ~3% slower
UNKNOWN = compare_samples(lognormal(100, 0.01, 30, 1), lognormal(103, 0.04, 6, 2))


class TestPlanRepetitions:
    def test_decided_verdicts_stop(self) -> None:
        """A regressed comparison needs no more runs."""
        done = compare_samples(lognormal(100, 0.01, 20, 3), lognormal(110, 0.01, 20, 4))
        assert done.verdict == "regressed"
        assert plan_repetitions(done, Budget(max_runs=100)).add == 0

    def test_unknown_adds_runs_within_budget(self) -> None:
        """An undecided comparison asks for more runs, never beyond max_runs."""
        assert UNKNOWN.verdict == "unknown"
        plan = plan_repetitions(UNKNOWN, Budget(max_runs=25))
        assert 0 < plan.add <= 19
        assert plan.target_n is not None and plan.target_n > 25
        assert "budget allows only 19" in plan.reason

    def test_time_budget(self) -> None:
        """With 4 s left at 1 s a run, at most 4 runs are added."""
        plan = plan_repetitions(UNKNOWN, Budget(max_time=10, time_per_run=1, elapsed=6))
        assert 0 < plan.add <= 4

    def test_no_or_exhausted_budget(self) -> None:
        """No budget configured, or none left: add nothing and say why."""
        assert "no budget" in plan_repetitions(UNKNOWN, Budget()).reason
        plan = plan_repetitions(UNKNOWN, Budget(max_runs=6))
        assert plan.add == 0 and "exhausted" in plan.reason

    def test_ab_mode_needs_fewer_runs_per_side(self) -> None:
        """When both sides grow, the target per side is smaller than candidate-only."""
        cand_only = plan_repetitions(UNKNOWN, Budget(max_runs=1000))
        both = plan_repetitions(UNKNOWN, Budget(max_runs=1000), grows="both")
        assert both.target_n is not None and cand_only.target_n is not None
        assert both.target_n < cand_only.target_n

    def test_too_few_samples_target_the_test_minimum(self) -> None:
        """3 vs 3 samples: first reach the size at which the rank test can decide."""
        few = compare_samples([1.0, 1.1, 0.9], [1.0, 1.2, 0.95])
        plan = plan_repetitions(few, Budget(max_runs=30))
        assert plan.target_n == 5 and plan.add == 2

    def test_noisy_baseline_cannot_be_rescued(self) -> None:
        """If the baseline alone is too uncertain, more candidate runs are not planned."""
        noisy = compare_samples(lognormal(100, 0.2, 6, 5), lognormal(100, 0.001, 30, 6))
        plan = plan_repetitions(noisy, Budget(max_runs=1000))
        assert plan.add == 0 and "baseline" in plan.reason

    def test_not_comparable_stops(self) -> None:
        """Bad data is not fixed by more runs."""
        bad = compare_samples([], [1.0])
        assert plan_repetitions(bad, Budget(max_runs=50)).add == 0
