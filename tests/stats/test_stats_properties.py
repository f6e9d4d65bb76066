"""Property tests (hypothesis): invariants every comparison must keep."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perflab.stats import (
    VERDICTS,
    CompareInput,
    bh_qvalues,
    compare_many,
    compare_paired,
    compare_samples,
    quality_flags,
)

FLIP = {
    "regressed": "improved",
    "improved": "regressed",
    "same": "same",
    "unknown": "unknown",
    "not_comparable": "not_comparable",
}

positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = st.lists(positive, min_size=1, max_size=25)
shifted = st.tuples(
    st.lists(st.floats(0.5, 2.0), min_size=4, max_size=20),
    st.floats(0.8, 1.25),
    st.integers(0, 2**16),
)
anything = st.lists(st.one_of(st.floats(), st.integers(-10, 10)), max_size=12)
direction = st.sampled_from(["lower", "higher"])
FAST = {"resamples": 200}
RUNS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pair(data: tuple[list[float], float, int]) -> tuple[list[float], list[float]]:
    """A baseline and a noisy candidate shifted by a factor."""
    base, factor, seed = data
    noise = np.random.default_rng(seed).lognormal(0, 0.02, len(base))
    return base, list(np.asarray(base) * factor * noise)


class TestCompareProperties:
    @RUNS
    @given(samples, samples, direction)
    def test_ratio_ci_contains_the_ratio(
        self, base: list[float], cand: list[float], d: str
    ) -> None:
        """Whatever the data, the reported CI contains the reported ratio."""
        r = compare_samples(base, cand, direction=d, **FAST)
        assert r.ratio is not None and r.ratio_ci is not None
        assert r.ratio_ci[0] <= r.ratio <= r.ratio_ci[1]

    @RUNS
    @given(shifted, direction)
    def test_swapping_sides_inverts_ratio_and_flips_verdict(
        self, data: tuple[list[float], float, int], d: str
    ) -> None:
        """B vs A has the inverse ratio and CI of A vs B, and the mirrored verdict."""
        base, cand = pair(data)
        ab = compare_samples(base, cand, direction=d, **FAST)
        ba = compare_samples(cand, base, direction=d, **FAST)
        assert ab.ratio is not None and ba.ratio is not None
        assert math.isclose(ab.ratio * ba.ratio, 1.0, rel_tol=1e-12)
        assert ab.ratio_ci is not None and ba.ratio_ci is not None
        assert math.isclose(ab.ratio_ci[0] * ba.ratio_ci[1], 1.0, rel_tol=1e-12)
        assert math.isclose(ab.ratio_ci[1] * ba.ratio_ci[0], 1.0, rel_tol=1e-12)
        assert ba.verdict == FLIP[ab.verdict]

    @RUNS
    @given(shifted, direction, st.integers(-20, 20))
    def test_scaling_both_sides_keeps_the_verdict(
        self, data: tuple[list[float], float, int], d: str, power: int
    ) -> None:
        """Measuring in other units (both sides times 2^k) changes nothing but the medians."""
        base, cand = pair(data)
        scale = 2.0**power
        a = compare_samples(base, cand, direction=d, **FAST)
        b = compare_samples(
            [x * scale for x in base], [x * scale for x in cand], direction=d, **FAST
        )
        assert a.verdict == b.verdict
        assert a.ratio_ci is not None and b.ratio_ci is not None
        assert a.ratio_ci == pytest.approx(b.ratio_ci, rel=1e-12)

    @RUNS
    @given(samples, direction)
    def test_identical_inputs_never_change(self, base: list[float], d: str) -> None:
        """A sample compared with itself is never regressed or improved."""
        assert compare_samples(base, base, direction=d, **FAST).verdict in (
            "same",
            "unknown",
            "not_comparable",
        )

    @RUNS
    @given(
        anything,
        anything,
        st.sampled_from(["lower", "higher", "up"]),
        st.sampled_from([None, "ns", "B/s"]),
    )
    def test_never_raises_on_bad_samples(
        self, base: list[float], cand: list[float], d: str, unit: str | None
    ) -> None:
        """Any list of numbers (NaN, inf, negative, empty) gives a row, never an exception."""
        r = compare_samples(base, cand, direction=d, unit=unit, **FAST)
        assert r.verdict in VERDICTS
        json.dumps(r.to_dict(), allow_nan=False)
        if r.verdict == "not_comparable":
            assert r.reason

    @RUNS
    @given(st.lists(st.tuples(samples, samples), min_size=1, max_size=6))
    def test_many_equals_single_without_fdr(
        self, rows: list[tuple[list[float], list[float]]]
    ) -> None:
        """Vectorised rows agree with one-at-a-time comparisons."""
        report = compare_many([CompareInput(b, c) for b, c in rows], fdr=None, **FAST)
        for (b, c), row in zip(rows, report.rows, strict=True):
            single = compare_samples(b, c, **FAST)
            assert (row.verdict, row.ratio_ci) == (single.verdict, single.ratio_ci)


class TestPairedProperties:
    @RUNS
    @given(anything, anything)
    def test_never_raises(self, a: list[float], b: list[float]) -> None:
        """Paired mode also turns any bad input into a row."""
        r = compare_paired(a, b, **FAST)
        assert r.verdict in VERDICTS
        json.dumps(r.to_dict(), allow_nan=False)

    @RUNS
    @given(shifted, direction)
    def test_swapping_pairs_flips_verdict(
        self, data: tuple[list[float], float, int], d: str
    ) -> None:
        """Paired comparison is antisymmetric too."""
        a, b = pair(data)
        ab = compare_paired(a, b, direction=d, **FAST)
        ba = compare_paired(b, a, direction=d, **FAST)
        assert ba.verdict == FLIP[ab.verdict]


class TestBhProperties:
    @RUNS
    @given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40))
    def test_qvalues_bounded_and_order_preserving(self, p: list[float]) -> None:
        """p <= q <= 1, and a smaller p never gets a larger q."""
        arr = np.array(p)
        q = bh_qvalues(arr)
        assert np.all(q >= arr - 1e-15) and np.all(q <= 1.0)
        order = np.argsort(arr, kind="stable")
        assert np.all(np.diff(q[order]) >= -1e-15)


class TestQualityProperties:
    @RUNS
    @given(anything)
    def test_flags_never_raise(self, values: list[float]) -> None:
        """quality_flags returns flags for any input; each has a code and a message."""
        for flag in quality_flags(values):
            assert flag.code and flag.message
            json.dumps(flag.to_dict(), allow_nan=False)
