"""The pure parts: counted metrics from tool events, per-op division, the counted verdict,
findings, runner facts and dispatch."""

from __future__ import annotations

import json

import pytest

from perflab.compare.counted import compare_counted, compare_rows, findings
from perflab.errors import FormatError
from perflab.facts.counting import missing_counter, parse_counting
from perflab.formats.counted import counted_result, metrics_of, per_op
from perflab.formats.gbench import from_json
from perflab.formats.go import parse as parse_go
from perflab.model import Metric, ResultSet, result_from_dict
from perflab.queue.work import ServedRunner, fits
from perflab.stats import CompareInput, compare_many

CALLGRIND = {
    "tool": "callgrind",
    "events": {
        "Ir": 1000,
        "I1mr": 3,
        "ILmr": 2,
        "Dr": 400,
        "D1mr": 5,
        "DLmr": 1,
        "Dw": 100,
        "D1mw": 2,
        "DLmw": 1,
    },
}
NO_PMU = {
    "exit": 0,
    "stdout": "",
    "stderr": "<not supported>,,instructions,0,100.00,,\n<not supported>,,cycles,0,100.00,,\n",
}
CAN = {"valgrind": "3.19.0", "perf": {"found": True, "events": {"instructions": True}}}


class TestMetrics:
    def test_callgrind_cache_figures(self) -> None:
        """L1 = I1mr + D1mr + D1mw, LL = ILmr + DLmr + DLmw, cycles = Ir + 10 L1 + 100 LL."""
        assert metrics_of(CALLGRIND) == {
            "instructions": 1000.0,
            "l1_misses": 10.0,
            "ll_misses": 4.0,
            "estimated_cycles": 1500.0,
        }

    def test_perf_leaves_out_what_it_could_not_count(self) -> None:
        counted = {"tool": "perf", "events": {"instructions": 5e6, "cycles": None}}
        assert metrics_of(counted) == {"hw_instructions": 5e6}
        with pytest.raises(FormatError, match="nothing was counted"):
            counted_result("b", {"tool": "perf", "events": {"cycles": None}})

    def test_marked_counted_through_json(self) -> None:
        """The near-exact counts are marked counted and stay so through the result JSON;
        perf's cycles are a measurement."""
        result = counted_result(
            "b", {"tool": "perf", "events": {"instructions": 9.0, "cycles": 7.0}}
        )
        again = result_from_dict(json.loads(json.dumps(result.to_dict())))
        metrics = again.benchmarks[0].metrics
        assert metrics["hw_instructions"].counted and not metrics["hw_cycles"].counted

    def test_go_per_op(self) -> None:
        """Go's -test.benchtime=Nx: the count is divided by the N the line reports."""
        text = "goos: linux\nBenchmarkLoop-2   \t   20000\t     97872 ns/op\nPASS\n"
        name, iterations = per_op("go", text, parse_go(text), "here")
        assert (name, iterations) == ("BenchmarkLoop", 20000)
        per = counted_result(name, {"tool": "callgrind", "events": {"Ir": 40000}}, iterations)
        assert per.benchmarks[0].metrics["instructions"].samples == [2.0]

    def test_gbench_per_op_and_one_benchmark(self) -> None:
        rows = [
            {
                "name": "BM_A",
                "run_name": "BM_A",
                "run_type": "iteration",
                "iterations": 500,
                "real_time": 1.0,
                "cpu_time": 1.0,
                "time_unit": "ns",
            }
        ]
        text = json.dumps({"context": {}, "benchmarks": rows})
        assert per_op("gbench", text, from_json(json.loads(text)), "x") == ("BM_A", 500)
        two = json.dumps(
            {"context": {}, "benchmarks": [*rows, {**rows[0], "name": "BM_B", "run_name": "BM_B"}]}
        )
        with pytest.raises(FormatError, match="must hold one benchmark, got 2"):
            per_op("gbench", two, from_json(json.loads(two)), "x")


def _item(base: list[float], cand: list[float], metric: str = "instructions") -> CompareInput:
    return CompareInput(base=base, cand=cand, benchmark="b", metric=metric, unit="instructions")


class TestCountedVerdict:
    def test_one_sample_per_side(self) -> None:
        """+0.2% is beyond the 0.1% band: regressed; +0.05% is the same work."""
        worse = compare_counted(_item([1_000_000], [1_002_000]), 0.001)
        assert worse.verdict == "regressed" and worse.test == "counted"
        assert worse.reason.startswith("counted: instructions +0.20%")
        assert compare_counted(_item([1_000_000], [1_000_500]), 0.001).verdict == "same"
        assert compare_counted(_item([1_000_000], [998_000]), 0.001).verdict == "improved"

    def test_counts_that_do_not_repeat(self) -> None:
        """A side whose own counts differ by more than the band cannot be read exactly."""
        row = compare_counted(_item([1_000_000, 1_010_000], [1_000_000]), 0.001)
        assert row.verdict == "unknown" and "not deterministic" in row.reason

    def test_rows_keep_their_order_and_skip_the_statistics(self) -> None:
        pairs = [
            ("b", "wall_time", Metric("ns", "lower"), Metric("ns", "lower")),
            ("b", "instructions", Metric("instructions", "lower", counted=True), None),
        ]
        inputs = [
            CompareInput(
                base=[1.0, 1.1, 0.9, 1.0],
                cand=[1.0, 1.05, 0.95, 1.0],
                benchmark="b",
                metric="wall_time",
                unit="ns",
            ),
            _item([100.0], [200.0]),
        ]
        seen: list[int] = []

        def statistics(items: list[CompareInput]) -> object:
            seen.append(len(items))
            return compare_many(items)

        report = compare_rows(pairs, inputs, statistics)
        assert seen == [1] and [r.metric for r in report.rows] == ["wall_time", "instructions"]
        assert report.rows[1].verdict == "regressed" and report.tested == 1


class TestFindings:
    def test_the_host_not_the_code(self) -> None:
        time = compare_many(
            [
                CompareInput(
                    base=[10.0 + i % 3 * 0.01 for i in range(20)],
                    cand=[13.0 + i % 3 * 0.01 for i in range(20)],
                    benchmark="b",
                    metric="wall_time",
                    unit="ns",
                )
            ],
            fdr=None,
        ).rows[0]
        assert time.verdict == "regressed"
        work = compare_counted(_item([1e6], [1e6]), 0.001)
        found = findings([time, work])
        assert [f.kind for f in found] == ["host_not_code"]
        assert "the host, not the code" in found[0].message
        assert findings([time, compare_counted(_item([1e6], [1.3e6]), 0.001)]) == []


class TestRunnerFacts:
    def test_no_pmu(self) -> None:
        facts = parse_counting(
            {
                "counting_valgrind": {"exit": 0, "stdout": "valgrind-3.19.0\n"},
                "counting_perf": NO_PMU,
            }
        )
        assert facts["valgrind"] == "3.19.0" and facts["perf"]["found"]
        assert not facts["perf"]["events"]["instructions"]
        counter, why = missing_counter(facts, ("instructions", "hw")) or ("", "")
        assert counter == "hw" and "<not supported>" in why
        assert missing_counter(facts, ("instructions", "cache")) is None

    def test_dispatch_picks_runners_that_count(self) -> None:
        """A group's job that counts goes only to a runner whose facts say it can."""
        job = {
            "target": {"kind": "group", "name": "lab"},
            "exclude": [],
            "options": {"counters": ["instructions"]},
        }
        able = ServedRunner("a", ("lab",), counting=CAN)
        lacking = ServedRunner("b", ("lab",), counting={"valgrind": None})
        unknown = ServedRunner("c", ("lab",))
        assert [fits(r, job) for r in (able, lacking, unknown)] == [True, False, False]
        plain = {**job, "options": {}}
        assert [fits(r, plain) for r in (able, lacking, unknown)] == [True, True, True]


def test_result_set_extend_keeps_counted() -> None:
    one = counted_result("b", CALLGRIND)
    total = ResultSet()
    total.extend(one)
    total.extend(one)
    assert total.benchmarks[0].metrics["instructions"].counted
    assert total.benchmarks[0].metrics["instructions"].samples == [1000.0, 1000.0]
