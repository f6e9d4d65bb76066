"""Gates: thresholds with units, relative and absolute bounds, decided by CIs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from perflab.stats import (
    GateSpecError,
    evaluate_gate,
    gate_applies,
    parse_fraction,
    parse_quantity,
)
from perflab.stats.gates import samples_to_bound


def lognormal(median: float, cv: float, n: int, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).lognormal(math.log(median), cv, n))


class TestParseQuantity:
    @pytest.mark.parametrize(
        ("text", "unit", "value"),
        [
            ("200us", "ns", 200_000.0),
            ("200 µs", "ns", 200_000.0),
            ("1.5ms", "us", 1500.0),
            ("2s", "ms", 2000.0),
            ("100MB/s", "B/s", 1e8),
            ("3", "ns", 3.0),
            (42, "ns", 42.0),
            ("-5 ns", "ns", -5.0),
            ("1e3ns", "us", 1.0),
        ],
    )
    def test_converts_to_the_metric_unit(self, text: object, unit: str, value: float) -> None:
        """Values with units are converted into the metric's unit exactly."""
        assert parse_quantity(text, unit) == value

    @pytest.mark.parametrize(
        ("text", "unit", "words"),
        [
            ("200kg", "ns", "cannot be converted"),
            ("10%", "ns", "relative limit"),
            ("fast", "ns", 'like "200us"'),
            ("5us", None, "has no unit"),
            (True, "ns", "got True"),
            ("200ms", "B/s", "cannot be converted"),
        ],
    )
    def test_errors_say_what_was_expected(self, text: object, unit: str | None, words: str) -> None:
        """Bad thresholds raise GateSpecError with the field and what was found."""
        with pytest.raises(GateSpecError) as info:
            parse_quantity(text, unit, "max")
        assert words in str(info.value) and info.value.field == "max"


class TestParseFraction:
    @pytest.mark.parametrize(
        ("raw", "value"), [("10%", 0.1), (" 2.5 % ", 0.025), (0.15, 0.15), (0, 0.0)]
    )
    def test_percent_or_fraction(self, raw: object, value: float) -> None:
        """'10%' and 0.1 mean the same."""
        assert parse_fraction(raw) == pytest.approx(value)

    @pytest.mark.parametrize("raw", ["10", "ten%", -0.1, None, False])
    def test_rejects(self, raw: object) -> None:
        """Strings need a % sign; negatives and non-numbers are refused."""
        with pytest.raises(GateSpecError):
            parse_fraction(raw, "max_increase")


class TestEvaluateGate:
    base = lognormal(100.0, 0.02, 40, 1)

    def test_p95_up_more_than_10_percent_fails(self) -> None:
        """A 20% slower candidate fails 'p95 up at most 10%' with the CI as evidence."""
        cand = lognormal(120.0, 0.02, 40, 2)
        r = evaluate_gate(
            {"metric": "time", "stat": "p95", "max_increase": "10%"}, self.base, cand, unit="ns"
        )
        assert r.outcome == "fail"
        check = r.checks[0]
        assert check.ci is not None and check.ci[0] > 1.10 and check.limit == pytest.approx(1.1)
        assert "beyond the limit +10%" in r.reason

    def test_small_change_passes(self) -> None:
        """A 1% change passes a 10% limit: the whole CI is below it."""
        r = evaluate_gate(
            {"metric": "time", "max_increase": 0.1}, self.base, lognormal(101.0, 0.02, 40, 3)
        )
        assert r.outcome == "pass" and r.stat == "median"

    def test_change_near_the_limit_is_unknown(self) -> None:
        """A change at the limit with noisy data cannot be decided."""
        r = evaluate_gate(
            {"metric": "time", "max_increase": "10%"},
            lognormal(100, 0.08, 10, 4),
            lognormal(110, 0.08, 10, 5),
        )
        assert r.outcome == "unknown"

    def test_throughput_down_more_than_10_percent(self) -> None:
        """max_decrease on throughput: a 20% drop fails (and is called worse), a 2% drop passes."""
        gate = {"metric": "ops", "stat": "median", "max_decrease": "10%"}
        drop = evaluate_gate(gate, self.base, lognormal(80, 0.02, 40, 6), direction="higher")
        assert drop.outcome == "fail" and "worse" in drop.reason
        assert (
            evaluate_gate(gate, self.base, lognormal(98, 0.02, 40, 7), direction="higher").outcome
            == "pass"
        )

    def test_slo_on_p99_needs_enough_samples(self) -> None:
        """p99 <= 200us: 30 samples cannot bound p99 (unknown, says how many are needed);
        1000 samples well below pass; samples clearly above fail."""
        gate = {"metric": "latency", "stat": "p99", "max": "200us"}
        few = evaluate_gate(gate, None, lognormal(100_000, 0.05, 30, 8), unit="ns")
        assert few.outcome == "unknown" and str(samples_to_bound(0.99, 0.95)) in few.reason
        many = evaluate_gate(gate, None, lognormal(100_000, 0.05, 1000, 9), unit="ns")
        assert many.outcome == "pass"
        over = evaluate_gate(gate, None, lognormal(300_000, 0.05, 1000, 10), unit="ns")
        assert over.outcome == "fail"

    def test_mean_slo_uses_a_bootstrap_ci(self) -> None:
        """An absolute bound on the mean is decided by a bootstrap CI of the mean."""
        r = evaluate_gate(
            {"metric": "t", "stat": "mean", "max": 130}, None, lognormal(120, 0.02, 30, 11)
        )
        assert r.outcome == "pass" and r.checks[0].ci is not None

    def test_min_and_max_are_taken_as_observed(self) -> None:
        """max <= limit on the 'max' stat compares the largest sample itself."""
        gate = {"metric": "t", "stat": "max", "max": 10}
        assert evaluate_gate(gate, None, [1.0, 2.0, 11.0]).outcome == "fail"
        assert evaluate_gate(gate, None, [1.0, 2.0, 9.0]).outcome == "pass"

    def test_several_bounds_combine(self) -> None:
        """A gate with two bounds fails if either fails and names it."""
        r = evaluate_gate(
            {"metric": "t", "max_increase": "50%", "max": 110},
            self.base,
            lognormal(120, 0.02, 40, 12),
        )
        assert [c.outcome for c in r.checks] == ["pass", "fail"]
        assert r.outcome == "fail"

    def test_missing_baseline_and_bad_samples_are_not_comparable(self) -> None:
        """No baseline for a relative bound, or NaN samples: not_comparable with a reason."""
        r = evaluate_gate({"metric": "t", "max_increase": "5%"}, None, [1.0, 2.0])
        assert r.outcome == "not_comparable" and "baseline" in r.reason
        r = evaluate_gate({"metric": "t", "max": "5"}, None, [1.0, math.nan])
        assert r.outcome == "not_comparable" and "NaN" in r.reason

    @pytest.mark.parametrize(
        ("gate", "field"),
        [
            ({"metric": "t"}, "gate"),
            ({"metric": "t", "stat": "p50", "max": 1}, "stat"),
            ({"metric": "t", "max_decrease": "100%"}, "max_decrease"),
            ({"metric": "t", "max": "3kg"}, "max"),
        ],
    )
    def test_malformed_gates_raise(self, gate: dict[str, object], field: str) -> None:
        """A gate that cannot be evaluated is a GateSpecError naming the field."""
        with pytest.raises(GateSpecError) as info:
            evaluate_gate(gate, self.base, self.base, unit="ns")
        assert info.value.field == field

    def test_bad_direction_raises(self) -> None:
        """direction must be lower or higher."""
        with pytest.raises(GateSpecError) as info:
            evaluate_gate({"metric": "t", "max": 1}, None, [1.0], direction="up")
        assert info.value.field == "direction"

    def test_reproducible_and_json_ready(self) -> None:
        """Same seed, same result; to_dict is strict JSON."""
        gate = {"metric": "t", "stat": "p90", "max_increase": "5%"}
        cand = lognormal(103, 0.02, 40, 13)
        a = evaluate_gate(gate, self.base, cand, seed=3)
        assert a == evaluate_gate(gate, self.base, cand, seed=3)
        json.dumps(a.to_dict(), allow_nan=False)


class TestGateApplies:
    def test_glob_and_metric(self) -> None:
        """benchmark is a glob (default all); the metric must match exactly."""
        gate = {"metric": "time", "benchmark": "BM_Sort/*"}
        assert gate_applies(gate, "BM_Sort/64", "time")
        assert not gate_applies(gate, "BM_Hash/64", "time")
        assert not gate_applies(gate, "BM_Sort/64", "bytes")
        assert gate_applies({"metric": "time"}, "anything", "time")
