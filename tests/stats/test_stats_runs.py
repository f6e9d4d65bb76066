"""Issue 11's statistics: exact metrics, flags that decide, runs as a unit of variance,
honest summaries and reasons, adaptive repetitions that stop on run-level drift."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from perflab.stats import CompareInput, compare_many, compare_samples
from perflab.stats.adaptive import RUN_DRIFT, Budget, plan_repetitions
from perflab.stats.hierarchy import DEFAULT_RUN_SPREAD, log_median, log_medians, run_spread
from perflab.stats.verdict import Evidence, decide


def noisy(median: float, n: int = 20, cv: float = 0.01, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(median * rng.lognormal(0.0, cv, n))


def one(item: CompareInput, **kw):
    return compare_many([item], fdr=None, **kw).rows[0]


def single_run(n: int) -> list[tuple[int, int]]:
    return [(0, i) for i in range(n)]


class TestExact:
    def test_zero_to_one_alloc_is_a_regression(self) -> None:
        """0 -> 1 allocs/op was not_comparable (zero median); a deterministic count that
        changes is reported, whatever its size."""
        row = one(CompareInput([0.0] * 10, [1.0] * 10, metric="allocs_per_op", exact=True))
        assert row.verdict == "regressed"
        assert "changed from 0 to 1" in row.reason
        assert row.exact and row.test == "exact"

    def test_identical_counts_are_same_without_warnings(self) -> None:
        """Identical samples are what a count looks like: same, and no tail_too_tight flag."""
        row = one(CompareInput([2.0] * 10, [2.0] * 10, metric="allocs_per_op", exact=True))
        assert row.verdict == "same" and row.flags == ()
        measured = one(CompareInput([2.0] * 10, [2.0] * 10, metric="time"))
        assert "tail_too_tight" in {f.code for f in measured.flags}  # a measured metric: flagged

    def test_fewer_allocations_improve(self) -> None:
        row = one(CompareInput([3.0] * 5, [2.0] * 5, metric="allocs_per_op", exact=True))
        assert row.verdict == "improved"

    def test_overlapping_jitter_is_unknown(self) -> None:
        """A count that varies within a side (B/op rounded over b.N) with overlapping values
        and different medians names no exact change."""
        row = one(
            CompareInput(
                [152, 153, 152, 153, 152],
                [153, 153, 152, 153, 153],
                metric="bytes_per_op",
                exact=True,
            )
        )
        assert row.verdict == "unknown" and "overlap" in row.reason

    def test_tolerance_is_a_band_for_counters(self) -> None:
        """A counted metric with a tolerance (instructions under callgrind) ignores changes
        within it and reports those beyond it."""
        within = one(CompareInput([1000.0] * 3, [1005.0] * 3, exact=True, tolerance=0.01))
        beyond = one(CompareInput([1000.0] * 3, [1020.0] * 3, exact=True, tolerance=0.01))
        assert (within.verdict, beyond.verdict) == ("same", "regressed")

    def test_exact_rows_stay_out_of_fdr_and_geomean(self) -> None:
        """Counts are not tested, so they do not dilute the false-discovery control."""
        report = compare_many(
            [
                CompareInput([1.0] * 5, [2.0] * 5, metric="allocs_per_op", exact=True),
                CompareInput(noisy(100), noisy(100, seed=1), metric="time"),
            ]
        )
        assert report.tested == 1
        assert [g.metric for g in report.summary] == ["time"]


class TestFlagsDecide:
    def test_contamination_makes_a_clear_regression_unmeasured(self) -> None:
        """A 2x slowdown next to a hog is not a regression of the code: unknown, with the
        reason and the raw ratio."""
        row = one(
            CompareInput(
                noisy(100),
                noisy(200, seed=1),
                metric="time",
                cand_contamination="other processes used 48% of CPU 1",
            )
        )
        assert row.verdict == "unknown" and row.unmeasured == ("contaminated",)
        assert row.reason.startswith(
            "could not measure: candidate: the run was contaminated "
            "(other processes used 48% of CPU 1)"
        )
        assert "raw ratio +10" in row.reason and row.ratio is not None and row.ratio > 1.9

    def test_a_failed_noise_probe_blocks_same_too(self) -> None:
        """Never a confident 'same' from a host that failed its probe."""
        row = one(
            CompareInput(
                noisy(100),
                noisy(100, seed=1),
                metric="time",
                base_noise_probe_failure="cpu 1: CV 9%",
            )
        )
        assert row.verdict == "unknown" and row.unmeasured == ("noisy_host",)

    def test_modes_that_mix_differently(self) -> None:
        """Two modes 10% apart: 10/10 in the baseline, 3/17 in the candidate: the ratio
        measures the mix, so the row is unmeasured; the same mix is not blocked."""
        low, high = noisy(100, 10, 0.003), noisy(110, 10, 0.003, seed=1)
        base = low + high
        cand = noisy(100, 3, 0.003, seed=2) + noisy(110, 17, 0.003, seed=3)
        row = one(CompareInput(base, cand, metric="time"))
        assert row.unmeasured == ("bimodal_mix",), row.reason
        assert "10 low / 10 high" in row.reason and "3 low / 17 high" in row.reason
        same_mix = noisy(100, 10, 0.003, seed=4) + noisy(110, 10, 0.003, seed=5)
        assert one(CompareInput(base, same_mix, metric="time")).unmeasured == ()

    def test_a_shift_beyond_both_modes_is_still_caught(self) -> None:
        """A bimodal benchmark that got 2x slower moved for real: regressed."""
        base = noisy(100, 10, 0.003) + noisy(110, 10, 0.003, seed=1)
        row = one(CompareInput(base, noisy(220, 20, 0.01, seed=2), metric="time"))
        assert row.verdict == "regressed" and row.unmeasured == ()


class TestRuns:
    def test_single_runs_without_history_widen_the_decision(self) -> None:
        """20% between two single runs: regressed as samples, unknown as runs (the spread
        between runs is unknown, assumed 10%), and the row says so."""
        base, cand = noisy(100), noisy(120, seed=1)
        assert one(CompareInput(base, cand)).verdict == "regressed"
        row = one(CompareInput(base, cand, base_groups=single_run(20), cand_groups=single_run(20)))
        assert row.verdict == "unknown" and row.runs == (1, 1)
        assert row.run_spread == DEFAULT_RUN_SPREAD
        assert "assumed 10%" in row.run_spread_source
        big = one(
            CompareInput(
                base, noisy(250, seed=2), base_groups=single_run(20), cand_groups=single_run(20)
            )
        )
        assert big.verdict == "regressed"  # optimisations off: still caught

    def test_a_declared_zero_spread_is_the_sample_level_test(self) -> None:
        base, cand = noisy(100), noisy(120, seed=1)
        row = one(
            CompareInput(
                base, cand, base_groups=single_run(20), cand_groups=single_run(20), run_spread=0.0
            )
        )
        assert row.verdict == "regressed"

    def test_baseline_runs_that_drift_are_resampled(self) -> None:
        """Six baseline runs whose medians drift by +-15%: a candidate run 15% slower is
        within the runs' own spread (not regressed); 2x slower is regressed."""
        rng = np.random.default_rng(3)
        base, groups = [], []
        for r, offset in enumerate((1.0, 1.15, 0.9, 1.1, 0.85, 1.0)):
            base += noisy(100 * offset, 10, seed=int(rng.integers(1000)))
            groups += [(r, p) for p in range(10)]
        near = one(
            CompareInput(
                base,
                noisy(115, 10, seed=9),
                base_groups=groups,
                cand_groups=single_run(10),
                run_spread=0.12,
            )
        )
        far = one(
            CompareInput(
                base,
                noisy(200, 10, seed=9),
                base_groups=groups,
                cand_groups=single_run(10),
                run_spread=0.12,
            )
        )
        assert near.verdict == "unknown" and near.runs == (6, 1)
        assert far.verdict == "regressed"

    def test_swapping_sides_inverts_a_hierarchical_row(self) -> None:
        """The mirrored streams keep the symmetry of the sample-level test: B/A's interval
        is the inverse of A/B's, and regressed becomes improved."""
        groups = [(r, p) for r in range(2) for p in range(8)]
        base, cand = noisy(100, 16, seed=5), noisy(160, 8, seed=6)
        ab = one(CompareInput(base, cand, base_groups=groups, cand_groups=single_run(8)))
        ba = one(CompareInput(cand, base, base_groups=single_run(8), cand_groups=groups))
        assert (ab.verdict, ba.verdict) == ("regressed", "improved")
        assert ab.ratio_ci is not None and ba.ratio_ci is not None
        assert math.isclose(ab.ratio_ci[0], 1 / ba.ratio_ci[1], rel_tol=1e-9)
        assert math.isclose(ab.ratio_ci[1], 1 / ba.ratio_ci[0], rel_tol=1e-9)

    def test_run_spread_is_learned_from_runs(self) -> None:
        """30 runs whose medians differ by 5% (sd) around 1% noise: the spread is about 5%,
        reported at its upper 90% bound (x1.21 for 30 runs); fewer than 3 runs give none."""
        rng = np.random.default_rng(7)
        runs = [
            list(100 * math.exp(rng.normal(0, 0.05)) * rng.lognormal(0, 0.01, 20))
            for _ in range(30)
        ]
        spread = run_spread(runs)
        assert spread is not None and 0.045 < spread < 0.075
        assert run_spread(runs[:2]) is None
        quiet = [list(100 * rng.lognormal(0, 0.01, 20)) for _ in range(30)]
        assert (run_spread(quiet) or 0.0) < 0.005  # only the medians' own sampling noise

    def test_spread_bound_is_the_chi_square_quantile(self) -> None:
        """The learned spread's upper-bound factor is dof / chi2.ppf(0.10, dof) (computed
        with scipy.special, without importing scipy.stats)."""
        from scipy import stats as sps

        from perflab.stats.hierarchy import SPREAD_CONFIDENCE, _chi2_upper

        for dof in (1, 2, 4, 19, 59, 400):
            expected = dof / sps.chi2.ppf(1 - SPREAD_CONFIDENCE, dof)
            assert math.isclose(_chi2_upper(dof), expected, rel_tol=1e-10)
        # as documented: x1.28 on the spread for 20 runs, x1.94 for 5, x3.1 for 3
        shown = [round(math.sqrt(_chi2_upper(k - 1)), 2) for k in (20, 5, 3)]
        assert shown == [1.28, 1.94, 3.08]

    def test_log_median_is_numpys_median_of_the_usable_logs(self) -> None:
        """A run's log median (sorted in Python, the hot path of a history of 10,000 rows)
        equals numpy's median of the logs of its positive, finite samples, for odd and even
        counts, with zeros, negatives, NaN and infinities mixed in."""
        rng = np.random.default_rng(11)
        odd = [np.nan, np.inf, -np.inf, 0.0, -3.0, 1e308]
        runs: list[list[float]] = []
        for n in range(1, 30):
            for _ in range(20):
                values = list(rng.lognormal(0, 2, n))
                if rng.random() < 0.5:
                    values += list(rng.choice(odd, size=int(rng.integers(1, 4))))
                    rng.shuffle(values)
                runs.append(values)
        runs += [[0.0, np.nan, -1.0], []]
        # all at once, as a history is read: the same figures, NaN where a run has none
        together = log_medians(runs)
        for values, median in zip(runs, together.tolist(), strict=True):
            usable = np.asarray([v for v in values if v > 0 and math.isfinite(v)])
            if not usable.size:
                assert log_median(values) is None and math.isnan(median)
                continue
            expected = float(np.median(np.log(usable)))
            assert math.isclose(log_median(values) or 0.0, expected, rel_tol=1e-12), values
            assert math.isclose(median, expected, rel_tol=1e-12), values


def slower(count: int, n: int, cv: float, median: float, **extra: Any) -> list[CompareInput]:
    """``count`` benchmarks of metric time, baseline median 100, candidate ``median``."""
    return [
        CompareInput(
            noisy(100, n, cv, seed=i),
            noisy(median, n, cv, seed=40 + i),
            benchmark=f"b{i}",
            metric="time",
            **extra,
        )
        for i in range(count)
    ]


class TestSummaries:
    def test_geomean_of_independent_samples_has_no_verdict(self) -> None:
        """Rows without process labels: the summary's CI is not from resampling whole
        processes, so no regressed/improved, and it says why."""
        items = [
            CompareInput(
                noisy(100, seed=i), noisy(150, seed=50 + i), benchmark=f"b{i}", metric="time"
            )
            for i in range(5)
        ]
        [geo] = compare_many(items).summary
        assert geo.verdict == "unknown" and geo.reason.startswith("no verdict")
        assert all(r.verdict == "regressed" for r in compare_many(items).rows)

    def test_geomean_resamples_whole_processes(self) -> None:
        """14 benchmarks measured by the same 10 processes, each process slower or faster
        for all of them (sd 20%): a bootstrap over whole processes gives the geomean a CI as
        wide as one benchmark's, not sqrt(14) times narrower, and a verdict."""
        rng = np.random.default_rng(11)
        procs_b, procs_c = rng.lognormal(0, 0.2, 10), rng.lognormal(0, 0.2, 10)
        items, loose = [], []
        for i in range(14):
            b = list(100 * procs_b * rng.lognormal(0, 0.002, 10))
            c = list(100 * procs_c * rng.lognormal(0, 0.002, 10))
            items.append(
                CompareInput(
                    b,
                    c,
                    benchmark=f"b{i}",
                    metric="time",
                    base_groups=single_run(10),
                    cand_groups=single_run(10),
                    run_spread=0.0,
                )
            )
            loose.append(CompareInput(b, c, benchmark=f"b{i}", metric="time"))
        [joint] = compare_many(items).summary
        [indep] = compare_many(loose).summary
        assert joint.ratio_ci is not None and indep.ratio_ci is not None
        width = math.log(joint.ratio_ci[1] / joint.ratio_ci[0])
        narrow = math.log(indep.ratio_ci[1] / indep.ratio_ci[0])
        assert width > 2.5 * narrow
        assert joint.verdict in ("unknown", "same", "regressed", "improved")
        assert not joint.reason.startswith("no verdict")

    def test_geomean_claims_nothing_no_row_confirms(self) -> None:
        """Fourteen benchmarks 6% slower, each with too few samples to confirm alone: the
        summary's CI lies beyond the band, but with every row unknown it used to say
        'regressed' (exit 0); it now has no verdict and says why, and the rows whose interval
        lies beyond the band say their size kept them from a verdict."""
        items = slower(
            14, 3, 0.02, 106, base_groups=single_run(3), cand_groups=single_run(3), run_spread=0.0
        )
        report = compare_many(items)
        assert {r.verdict for r in report.rows} == {"unknown"}
        [geo] = report.summary
        assert geo.ratio_ci is not None and geo.ratio_ci[0] > 1.01  # beyond the band
        assert geo.verdict == "unknown"
        sized = [r for r in report.rows if r.unmeasured]
        assert sized and all(r.unmeasured == ("too_few_repetitions",) for r in sized)
        assert all("only 3 and 3 samples" in r.reason for r in sized)
        assert geo.reason.startswith(f"no verdict: {len(sized)} of the rows could not be measured")

    def test_a_summary_beyond_the_band_needs_a_confirmed_row(self) -> None:
        """The rule itself, on a summary that would say regressed over rows all unknown."""
        from dataclasses import replace

        from perflab.stats.compare import _confirmed

        items = slower(4, 8, 0.05, 103)
        report = compare_many(items)
        assert {r.verdict for r in report.rows} == {"unknown"}
        claimed = replace(
            report.summary[0], verdict="regressed", reason="geometric mean +3%: worse"
        )
        keys = [("time", "lower")] * 4
        geo = _confirmed(claimed, list(report.rows), keys)
        assert geo.verdict == "unknown"
        assert "no benchmark's own test confirms" in geo.reason
        rows = [replace(report.rows[0], verdict="regressed"), *report.rows[1:]]
        assert _confirmed(claimed, rows, keys).verdict == "regressed"

    def test_unknown_reason_quotes_the_interval_that_decided(self) -> None:
        """The reported 95% CI lies beyond the band, the adjusted 99.9% one does not: the
        reason quotes the adjusted one and says why (it used to say the 95% CI straddles)."""
        edge = math.log(1.01)
        ev = Evidence(
            direction="lower",
            log_ratio=0.04,
            ci=(0.02, 0.06),
            decision_ci=(0.005, 0.075),
            confidence=0.95,
            decision_level=0.999,
            noise_band=0.01,
            significant=True,
            test_text="the test (q = 0.01)",
        )
        verdict, reason = decide(ev)
        assert verdict == "unknown" and ev.decision_ci[0] < edge < ev.ci[0]
        assert "(99.9% CI +0.5% .. +7.8%) straddles" in reason
        assert "the 95% CI +2.0% .. +6.2% alone lies beyond it" in reason


class TestAdaptiveDrift:
    def test_run_level_drift_stops_adding_runs(self) -> None:
        """Baseline and candidate 40% apart with a 20% run spread: more repetitions of the
        candidate's run cannot decide, so the plan adds none and says to interleave."""
        base, cand = noisy(100), noisy(140, seed=1)
        row = one(
            CompareInput(
                base, cand, base_groups=single_run(20), cand_groups=single_run(20), run_spread=0.2
            )
        )
        assert row.verdict == "unknown"
        plan = plan_repetitions(row, Budget(max_runs=100))
        assert plan.add == 0 and plan.reason.startswith(RUN_DRIFT)

    def test_without_run_structure_runs_are_still_added(self) -> None:
        row = compare_samples(noisy(100, 6, 0.05), noisy(103, 6, 0.05, seed=1))
        assert row.verdict == "unknown"
        assert plan_repetitions(row, Budget(max_runs=100)).add > 0


class TestRunLevelGates:
    """Gates on the run-level interval (perflab.stats.gates.RunLevel, hierarchy's
    stat_replicates): what `compare` passes for rows of labelled samples."""

    @staticmethod
    def level(base_runs: list[list[float]], cand_runs: list[list[float]], spread: float):
        from perflab.stats.gates import RunLevel
        from perflab.stats.hierarchy import tree

        def grouped(runs: list[list[float]]):
            values = [v for run in runs for v in run]
            labels = [(r, i) for r, run in enumerate(runs) for i in range(len(run))]
            return tree(values, labels)

        return RunLevel(grouped(base_runs), grouped(cand_runs), spread)

    def test_p95_gate_of_single_runs_allows_for_the_spread(self) -> None:
        """A p95 15% up between two single runs: fail on samples, unknown on the run level
        with the assumed spread, fail again when runs are declared exchangeable."""
        from perflab.stats import evaluate_gate

        gate = {"metric": "time", "stat": "p95", "max_increase": "10%"}
        base, cand = noisy(100, n=60), noisy(115, n=60, seed=1)
        assert evaluate_gate(gate, base, cand).outcome == "fail"
        widened = evaluate_gate(gate, base, cand, runs=self.level([base], [cand], 0.10))
        assert widened.outcome == "unknown"
        assert "run-level: 1 and 1 runs, run-to-run spread 10.0%" in widened.reason
        exchangeable = evaluate_gate(gate, base, cand, runs=self.level([base], [cand], 0.0))
        assert exchangeable.outcome == "fail"

    def test_five_runs_are_resampled_not_widened(self) -> None:
        """At 5 runs a side the runs themselves are resampled: runs that drift by +-10%
        make the interval wide without any assumed spread, and runs that agree keep it
        narrow."""
        from perflab.stats.hierarchy import stat_replicates

        def p95(x):
            return np.nanpercentile(x, 95, axis=1)

        drifting = self.level(
            [noisy(100 * f, seed=s) for s, f in enumerate((0.9, 1, 1.1, 0.95, 1.05))], [[1.0]], 0
        )
        steady = self.level([noisy(100, seed=s) for s in range(5)], [[1.0]], 0)
        wide = stat_replicates(drifting.base, p95, count=2000, seed=0, stream=1, spread=0.5)
        narrow = stat_replicates(steady.base, p95, count=2000, seed=0, stream=1, spread=0.5)
        assert np.std(wide) > 3 * np.std(narrow)  # the 50% spread is not added at 5 runs
        assert np.std(narrow) < 0.02

    def test_the_median_gate_takes_the_rows_interval(self) -> None:
        from dataclasses import replace

        from perflab.stats import evaluate_gate

        gate = {"metric": "time", "max_increase": "10%"}
        base, cand = noisy(100), noisy(125, seed=1)
        level = replace(self.level([base], [cand], 0.1), median=(1.25, (1.05, 1.45)))
        check = evaluate_gate(gate, base, cand, runs=level).checks[0]
        assert check.ci == (1.05, 1.45) and check.outcome == "unknown"
