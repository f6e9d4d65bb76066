"""The fast paths of a large compare (issue 12's 10,000 x 30 target): flat hierarchical
rows bootstrapped all at once, and the rank tests without importing scipy.stats, each
checked against the slow path or scipy itself."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from perflab.stats import CompareInput, compare_many, hierarchy
from perflab.stats.bootstrap import percentile_bounds
from perflab.stats.decisive import fisher_exact
from perflab.stats.significance import _mwu, mwu_pvalues, normal_sf
from perflab.stats.summary import _coverage

REPO = Path(__file__).resolve().parents[2]


def single_run(n: int) -> list[tuple[int, int]]:
    return [(0, i) for i in range(n)]


class TestFlatRows:
    def test_flat_rows_skip_the_per_row_bootstrap(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """One run of single-value processes a side (what `perflab run` stores with fresh
        processes): no row goes through the per-row resampling loop (9.6 ms a row, 97 s for
        10,000 rows), yet every row is hierarchical (runs and spread reported)."""

        def refuse(*_a: object, **_k: object) -> None:
            raise AssertionError("a flat row took the per-row path")

        monkeypatch.setattr("perflab.stats._rows.side_replicates", refuse)
        rng = np.random.default_rng(1)
        items = [
            CompareInput(
                list(100 * rng.lognormal(0, 0.02, 30)),
                list(100 * rng.lognormal(0, 0.02, 30)),
                benchmark=f"b{i}",
                metric="time",
                base_groups=single_run(30),
                cand_groups=single_run(30),
            )
            for i in range(200)
        ]
        rows = compare_many(items).rows
        assert all(r.runs == (1, 1) for r in rows)
        assert all(r.run_spread == hierarchy.DEFAULT_RUN_SPREAD for r in rows)

    def test_several_runs_still_take_the_general_path(self) -> None:
        groups = [(r, p) for r in range(2) for p in range(10)]
        base = list(100 * np.random.default_rng(2).lognormal(0, 0.02, 20))
        tree = hierarchy.tree(base, groups)
        assert tree.flat is None and tree.run_count == 2
        assert hierarchy.tree(base[:10], single_run(10)).flat is not None

    @pytest.mark.parametrize("spread", [0.0, 0.05])
    def test_flat_interval_has_the_general_paths_law(self, spread: float) -> None:
        """Same data through the vectorised path and through the general per-row resampling
        (process draws, then the run effect): the two 95% intervals agree within the
        bootstrap's own Monte Carlo noise, at 4,000 replicates."""
        rng = np.random.default_rng(3)
        base = 100 * rng.lognormal(0, 0.05, 25)
        cand = 104 * rng.lognormal(0, 0.05, 25)
        item = CompareInput(
            list(base),
            list(cand),
            base_groups=single_run(25),
            cand_groups=single_run(25),
            run_spread=spread,
        )
        row = compare_many([item], fdr=None, resamples=4000).rows[0]
        assert row.ratio_ci is not None
        # the same samples as general trees: one run, one single-value process each
        nested = [
            hierarchy.Tree((tuple(v[i : i + 1] for i in range(v.size)),)) for v in (base, cand)
        ]
        assert all(t.flat is None for t in nested)
        reps = hierarchy.side_replicates(
            nested[1], half=2000, seed=1, first=1, spread=spread
        ) - hierarchy.side_replicates(nested[0], half=2000, seed=1, first=0, spread=spread)
        lo, hi = percentile_bounds(reps[None, :], 0.05)
        general = (math.exp(float(lo[0])), math.exp(float(hi[0])))
        width = math.log(general[1] / general[0])
        for mine, theirs in zip(row.ratio_ci, general, strict=True):
            assert abs(math.log(mine / theirs)) < 0.12 * width


class TestWithoutScipyStats:
    @pytest.mark.parametrize("sizes", [(5, 5), (3, 8), (8, 30), (30, 30), (9, 9), (1, 4), (40, 12)])
    @pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
    def test_mann_whitney_matches_scipy(self, sizes: tuple[int, int], alternative: str) -> None:
        rng = np.random.default_rng(sum(sizes))
        base = rng.lognormal(0, 0.1, (50, sizes[0]))
        cand = rng.lognormal(0.04, 0.1, (50, sizes[1]))
        cand[0] = base[0, 0]  # a row of ties across sides
        for b, c in ((base, cand), (np.round(base, 1), np.round(cand, 1))):  # and many ties
            mine = mwu_pvalues(b, c, alternative)
            ref = np.empty(b.shape[0])
            for i in range(b.shape[0]):
                ref[i] = sps.mannwhitneyu(c[i], b[i], alternative=alternative).pvalue
            np.testing.assert_allclose(mine, np.clip(np.nan_to_num(ref, nan=1.0), 0, 1), atol=1e-12)

    def test_exact_distribution_matches_scipy(self) -> None:
        rng = np.random.default_rng(9)
        for n1, n2 in ((2, 2), (4, 7), (8, 8), (8, 50)):
            b, c = rng.random((30, n1)), rng.random((30, n2))
            ref = sps.mannwhitneyu(c, b, axis=1, method="exact").pvalue
            np.testing.assert_allclose(_mwu(b, c, "exact"), ref, atol=1e-12)

    def test_all_tied_rows_are_no_evidence(self) -> None:
        assert mwu_pvalues(np.ones((2, 20)), np.ones((2, 20)))[0] == 1.0

    def test_fisher_exact_matches_scipy(self) -> None:
        rng = np.random.default_rng(4)
        for _ in range(300):
            table = rng.integers(0, 25, (2, 2)).tolist()
            if sum(map(sum, table)) == 0:
                continue
            assert fisher_exact(table) == pytest.approx(sps.fisher_exact(table).pvalue, abs=1e-12)
        assert fisher_exact([[900, 1100], [1200, 800]]) == pytest.approx(
            sps.fisher_exact([[900, 1100], [1200, 800]]).pvalue, rel=1e-9
        )

    def test_median_ci_coverage_and_normal_tail_match_scipy(self) -> None:
        for n in (5, 30, 200):
            for low in range(1, n // 2 + 1, 3):
                expected = 1 - 2 * sps.binom.cdf(low - 1, n, 0.5)
                assert _coverage(n, low) == pytest.approx(expected, abs=1e-12)
        z = np.array([-40.0, -3.0, -0.5, 0.0, 1.96, 8.0, math.inf, math.nan])
        np.testing.assert_allclose(normal_sf(z), sps.norm.sf(z), rtol=1e-12, equal_nan=True)

    def test_a_compare_does_not_import_scipy_stats(self) -> None:
        """Importing scipy.stats costs about 0.6 s of CPU, a third of the 2 s target; the
        compare of hierarchical rows (with ties, trends and bimodal sides) needs none of it."""
        code = """
import sys
import numpy as np
from perflab.stats import CompareInput, compare_many
rng = np.random.default_rng(0)
g = [(0, i) for i in range(30)]
items = [CompareInput(list(np.round(rng.lognormal(0, .02, 30), 2)),
                      list(np.r_[np.full(15, 1.0), np.full(15, 1.5)] * rng.lognormal(0, .001, 30)),
                      benchmark=f"b{i}", metric="time", base_groups=g, cand_groups=g)
         for i in range(20)]
items.append(CompareInput(list(np.arange(1, 31.0)), list(np.arange(1, 31.0) * 1.1)))
compare_many(items)
print("scipy.stats" in sys.modules)
"""
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )
        assert out.stdout.strip() == "False", out.stderr


class TestZeros:
    def test_a_flat_row_with_zero_samples_keeps_the_run_allowance(self) -> None:
        """user_time of a short program: a third of the samples are 0 (below the clock's
        tick), the rest 1-4 ms. Two runs of the same program are one run each: the row is
        still hierarchical (runs and the assumed spread reported), and an A/A pair whose
        medians differ by chance is not called a change."""
        rng = np.random.default_rng(5)

        def side(seed: int) -> list[float]:
            r = np.random.default_rng(seed)
            values = r.choice(
                [0.0, 1000.0, 2000.0, 3000.0, 4000.0], 30, p=[0.3, 0.3, 0.2, 0.1, 0.1]
            )
            values[0] = 1000.0  # a positive median on both sides
            return list(values)

        verdicts = []
        for k in range(20):
            item = CompareInput(
                side(2 * k + int(rng.integers(1000))),
                side(2 * k + 1 + int(rng.integers(1000))),
                metric="user_time",
                base_groups=single_run(30),
                cand_groups=single_run(30),
            )
            row = compare_many([item], fdr=None).rows[0]
            assert row.runs == (1, 1)
            verdicts.append(row.verdict)
        assert verdicts.count("regressed") + verdicts.count("improved") == 0


class TestPhaseOneOnThreads:
    def test_threads_give_the_single_thread_answer(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A large group's summaries, flags and rank tests run on two threads: every
        figure is the one a single thread computes, bit for bit."""
        from perflab.stats import _engine

        rng = np.random.default_rng(5)
        base = rng.lognormal(0.0, 0.05, (300, 20)) * 1e4
        cand = base * rng.lognormal(0.01, 0.05, (300, 20))
        cand[::7, ::3] *= 1.4  # some rows with a second mode, so flags are raised
        st = _engine.Settings(
            noise_band=0.01,
            confidence=0.95,
            fdr=0.05,
            seed=0,
            resamples=2000,
            cv_limit=0.05,
            expected_tail=None,
            trend_min=0.005,
        )
        monkeypatch.setattr(_engine, "WORKERS", 1)
        alone = _engine.group_stats(base, cand, st)
        monkeypatch.setattr(_engine, "WORKERS", 2)
        monkeypatch.setattr(_engine, "PARALLEL_ROWS", 100)
        threads: list[str] = []
        original = _engine._flags

        def flags(*args: object, **kwargs: object) -> object:
            import threading

            threads.append(threading.current_thread().name)
            return original(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(_engine, "_flags", flags)
        together = _engine.group_stats(base, cand, st)
        assert len(set(threads)) == 2, threads  # the two sides' flags on two threads
        assert any(row.base_flags or row.cand_flags for row in alone)
        assert [repr(r) for r in together] == [repr(r) for r in alone]
