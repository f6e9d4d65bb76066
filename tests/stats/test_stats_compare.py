"""Two-sample comparisons: verdicts, direction, reproducibility, bad input, many at once."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from perflab.stats import (
    CompareInput,
    StatsInputError,
    bh_qvalues,
    compare_many,
    compare_samples,
)


def lognormal(median: float, cv: float, n: int, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).lognormal(math.log(median), cv, n))


BASE = lognormal(100.0, 0.01, 20, 1)
SLOWER = lognormal(105.0, 0.01, 20, 2)
SAME = lognormal(100.0, 0.001, 20, 3)


class TestCompareSamples:
    def test_slower_time_is_regressed(self) -> None:
        """A 5% slower candidate with 1% noise is regressed, with the ratio and its CI."""
        r = compare_samples(BASE, SLOWER, direction="lower")
        assert r.verdict == "regressed"
        assert r.ratio == pytest.approx(np.median(SLOWER) / np.median(BASE))
        assert r.ratio_ci is not None and r.ratio_ci[0] > 1.01
        assert r.change == pytest.approx(r.ratio - 1)
        assert "worse" in r.reason

    def test_throughput_drop_is_regressed(self) -> None:
        """Direction-aware: for higher-is-better a drop is a regression, a rise an improvement."""
        assert compare_samples(SLOWER, BASE, direction="higher").verdict == "regressed"
        assert compare_samples(BASE, SLOWER, direction="higher").verdict == "improved"
        assert compare_samples(SLOWER, BASE, direction="lower").verdict == "improved"

    def test_tight_equal_samples_are_same(self) -> None:
        """With 0.1% noise and no shift the CI lies inside the 1% band: same."""
        r = compare_samples(SAME, lognormal(100.0, 0.001, 20, 4))
        assert r.verdict == "same"
        assert "inside" in r.reason

    def test_noisy_equal_samples_are_unknown_not_same(self) -> None:
        """With 5% noise the CI straddles the band edge: unknown, never a silent same."""
        r = compare_samples(lognormal(100, 0.05, 10, 5), lognormal(100, 0.05, 10, 6))
        assert r.verdict == "unknown"
        assert "straddles" in r.reason

    def test_comparing_with_itself_is_never_a_change(self) -> None:
        """A run compared with itself is never regressed or improved."""
        r = compare_samples(BASE, BASE)
        assert r.verdict in ("same", "unknown")
        assert r.pvalue == pytest.approx(1.0)

    def test_too_few_samples_is_unknown(self) -> None:
        """3 vs 3 samples cannot reach p <= 0.05 even for a 50% shift: unknown."""
        r = compare_samples([1.0, 1.01, 0.99], [1.5, 1.51, 1.49])
        assert r.verdict == "unknown"
        assert "cannot reach" in r.reason

    def test_mwu_matches_scipy(self) -> None:
        """The reported p-value is scipy's two-sided Mann-Whitney U (auto method)."""
        for base, cand in ((BASE, SLOWER), (BASE[:6], SLOWER[:5]), ([1, 2, 2, 3], [2, 3, 3, 4])):
            r = compare_samples(base, cand)
            expected = sps.mannwhitneyu(base, cand, alternative="two-sided").pvalue
            assert r.mwu_pvalue == pytest.approx(expected, rel=1e-12)

    def test_bootstrap_is_reproducible(self) -> None:
        """The same seed gives the same CI; another seed gives a close but different one."""
        a = compare_samples(BASE, SLOWER, seed=7)
        b = compare_samples(BASE, SLOWER, seed=7)
        c = compare_samples(BASE, SLOWER, seed=8)
        assert a.ratio_ci == b.ratio_ci
        assert a.ratio_ci is not None and c.ratio_ci is not None
        assert a.ratio_ci == pytest.approx(c.ratio_ci, rel=0.01)

    def test_noise_band_changes_the_verdict(self) -> None:
        """A ~5% shift is beyond a 1% band but inside a 10% band."""
        assert compare_samples(BASE, SLOWER, noise_band=0.10).verdict == "same"

    def test_to_dict_is_json_ready(self) -> None:
        """Every field serialises to strict JSON (no NaN, no inf)."""
        r = compare_samples(BASE, SLOWER, metric="time", unit="ns", benchmark="BM_x")
        data = r.to_dict()
        json.dumps(data, allow_nan=False)
        assert data["verdict"] == "regressed" and data["base"]["n"] == 20
        assert {"ratio", "ratio_ci", "pvalue", "band_pvalue", "reason"} <= set(data)


class TestBadInput:
    @pytest.mark.parametrize(
        ("base", "cand", "unit", "words"),
        [
            ([], [1.0, 2.0], None, "baseline: no samples"),
            ([1.0, 2.0], [], None, "candidate: no samples"),
            ([1.0, math.nan, 2.0], [1.0, 2.0], None, "NaN (repetition 2)"),
            ([1.0, 2.0], [1.0, math.inf], None, "infinite"),
            ([1.0, 2.0], [-1.0, 2.0], "ns", "negative time"),
            ([0.0, 0.0, 1.0], [1.0, 2.0], None, "median is zero"),
            (["a", "b"], [1.0, 2.0], None, "not a list of numbers"),
        ],
    )
    def test_not_comparable_with_reason(
        self, base: list[float], cand: list[float], unit: str | None, words: str
    ) -> None:
        """Unusable samples give an explicit not_comparable row naming the problem."""
        r = compare_samples(base, cand, unit=unit)
        assert r.verdict == "not_comparable"
        assert words in r.reason
        json.dumps(r.to_dict(), allow_nan=False)

    def test_missing_metric_is_not_comparable(self) -> None:
        """A metric present on one side only (None on the other) is named as missing."""
        report = compare_many(
            [
                CompareInput(None, SLOWER, metric="rss"),
                CompareInput(BASE, None, metric="rss", paired=True),
            ],
            noise_band=0.02,
        )
        assert [r.reason for r in report.rows] == [
            "baseline: the metric is missing",
            "candidate: the metric is missing",
        ]
        assert report.rows[1].noise_band == 0.02 and report.rows[1].test == "wilcoxon-signed-rank"
        assert report.summary[0].verdict == "not_comparable"

    def test_bad_direction_is_not_comparable(self) -> None:
        """An unknown direction is a not_comparable row, not an exception."""
        r = compare_samples(BASE, SLOWER, direction="sideways")
        assert r.verdict == "not_comparable" and "direction" in r.reason

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"noise_band": -0.1}, "noise_band"),
            ({"confidence": 1.0}, "confidence"),
            ({"seed": -1}, "seed"),
            ({"resamples": 1.5}, "resamples"),
        ],
    )
    def test_bad_settings_raise_input_error(self, kwargs: dict[str, float], field: str) -> None:
        """Nonsense settings (from the job file) raise StatsInputError naming the field."""
        with pytest.raises(StatsInputError) as info:
            compare_samples(BASE, SLOWER, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field


class TestBhQvalues:
    def test_hand_computation(self) -> None:
        """q = min over j >= i of m p(j) / j, for two hand-worked examples."""
        q = bh_qvalues(np.array([0.01, 0.04, 0.03, 0.005]))
        assert q == pytest.approx([0.02, 0.04, 0.04, 0.02])
        q = bh_qvalues(np.array([0.02, 0.03, 0.04, 0.5]))
        assert q == pytest.approx([0.04 * 4 / 3] * 3 + [0.5])

    def test_nan_is_no_evidence(self) -> None:
        """An undefined p-value counts as 1 and does not poison the others."""
        q = bh_qvalues(np.array([0.01, math.nan, 0.02]))
        assert q == pytest.approx([0.03, 1.0, 0.03])

    def test_matches_scipy(self) -> None:
        """Agrees with scipy.stats.false_discovery_control (method bh)."""
        p = np.random.default_rng(0).uniform(size=50) ** 3
        assert bh_qvalues(p) == pytest.approx(sps.false_discovery_control(p, method="bh"))


class TestCompareMany:
    def items(self) -> list[CompareInput]:
        rows = [
            CompareInput(BASE, SLOWER, benchmark="slow", metric="time"),
            CompareInput(BASE, BASE, benchmark="self", metric="time"),
            CompareInput([], SLOWER, benchmark="empty", metric="time"),
            CompareInput(SLOWER, BASE, direction="higher", benchmark="tput", metric="ops"),
        ]
        rows += [
            CompareInput(
                lognormal(100, 0.01, 20, 10 + i),
                lognormal(100, 0.01, 20, 50 + i),
                benchmark=f"noise{i}",
                metric="time",
            )
            for i in range(20)
        ]
        return rows

    def test_rows_in_input_order_with_qvalues(self) -> None:
        """Rows keep their order; q-values are BH of the band p-values over comparable rows."""
        report = compare_many(self.items())
        assert [r.benchmark for r in report.rows[:4]] == ["slow", "self", "empty", "tput"]
        assert report.rows[2].verdict == "not_comparable" and report.rows[2].qvalue is None
        tested = [r for r in report.rows if r.verdict != "not_comparable"]
        assert report.tested == len(tested) == 23
        expected = bh_qvalues(np.array([r.band_pvalue for r in tested]))
        assert [r.qvalue for r in tested] == pytest.approx(expected)
        assert report.rows[0].verdict == "regressed" and report.rows[3].verdict == "regressed"

    def test_decision_ci_is_fcr_adjusted(self) -> None:
        """Selected rows decide on a CI at level 1 - R (1 - confidence) / m, wider than 95%."""
        report = compare_many(self.items())
        r, m = report.discoveries, report.tested
        assert r >= 2
        assert report.decision_level == pytest.approx(1 - r * 0.05 / m)
        row = report.rows[0]
        assert row.decision_ci is not None and row.ratio_ci is not None
        assert row.decision_ci[0] <= row.ratio_ci[0] and row.decision_ci[1] >= row.ratio_ci[1]

    def test_without_fdr_matches_single_comparisons(self) -> None:
        """fdr=None gives exactly what compare_samples gives row by row."""
        items = self.items()
        report = compare_many(items, fdr=None)
        for item, row in zip(items, report.rows, strict=True):
            single = compare_samples(
                item.base,
                item.cand,
                direction=item.direction,
                benchmark=item.benchmark,
                metric=item.metric,
            )
            assert (row.verdict, row.ratio_ci, row.pvalue) == (
                single.verdict,
                single.ratio_ci,
                single.pvalue,
            )

    def test_geometric_mean_rows_per_metric(self) -> None:
        """One summary row per metric: geometric mean of ratios with a CI; empty rows excluded."""
        report = compare_many(self.items())
        by_metric = {s.metric: s for s in report.summary}
        time_row = by_metric["time"]
        assert time_row.count == 22 and time_row.excluded == 1
        ratios = [r.ratio for r in report.rows if r.metric == "time" and r.ratio]
        assert time_row.ratio == pytest.approx(math.exp(np.mean(np.log(ratios))))
        assert time_row.ratio_ci is not None
        assert time_row.ratio_ci[0] <= time_row.ratio <= time_row.ratio_ci[1]
        assert by_metric["ops"].count == 1

    def test_many_null_rows_give_no_false_changes(self) -> None:
        """500 benchmarks without change and 1% noise: no row is regressed or improved."""
        rng = np.random.default_rng(3)
        items = [
            CompareInput(rng.lognormal(0, 0.01, 15), rng.lognormal(0, 0.01, 15)) for _ in range(500)
        ]
        counts = compare_many(items).counts()
        assert counts["regressed"] + counts["improved"] == 0

    def test_report_to_dict(self) -> None:
        """The whole report is strict JSON with counts."""
        data = compare_many(self.items()).to_dict()
        json.dumps(data, allow_nan=False)
        assert sum(data["counts"].values()) == 24

    def test_empty_input(self) -> None:
        """No rows: an empty report, not an error."""
        report = compare_many([])
        assert report.rows == () and report.summary == () and report.tested == 0
