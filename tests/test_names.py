"""Names that must match something: suggestions and the checks of gates and waivers."""

from __future__ import annotations

import pytest

from perflab.names import gate_errors, suggest, unmatched_patterns, waiver_errors

TIME = ("wall_time", "user_time", "sys_time", "max_rss", "ctx_voluntary", "ctx_involuntary")
PRESENT = [("sort", "wall_time"), ("sort", "max_rss"), ("scan", "wall_time")]


class TestSuggest:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("time", "wall_time"),  # a word of the name: the first such, the primary metric
            ("rss", "max_rss"),
            ("wall_tme", "wall_time"),  # a typo
            ("WALL_TIME", "wall_time"),  # case
            ("time*", "wall_time"),  # a glob that matches nothing: its literal part
            ("throughput", None),  # nothing close: no guess
        ],
    )
    def test_closest_name(self, name: str, expected: str | None) -> None:
        """The suggestion is the name the user most likely meant, or none at all."""
        assert suggest(name, TIME) == expected

    def test_no_choices(self) -> None:
        """Nothing to choose from: no suggestion."""
        assert suggest("time", []) is None


class TestGateErrors:
    def test_a_metric_that_is_not_there(self) -> None:
        """A gate on a metric no benchmark has: what exists, what was found, a suggestion."""
        [error] = gate_errors(
            [{"metric": "wall_time"}, {"metric": "time"}], PRESENT, what="of this run"
        )
        assert error.field == "gates[1].metric"
        assert str(error) == (
            "gates[1].metric: expected a metric of this run (wall_time, "
            'max_rss), got "time" (did you mean "wall_time"?)'
        )

    def test_a_metric_of_other_benchmarks_only(self) -> None:
        """The metric must exist in a benchmark the gate's glob selects."""
        [error] = gate_errors(
            [{"metric": "max_rss", "benchmark": "sc*"}], PRESENT, what="of this run"
        )
        assert error.field == "gates[0].metric" and "(wall_time)" in str(error)

    def test_a_benchmark_glob_that_matches_nothing(self) -> None:
        """A gate whose benchmark glob selects nothing checks nothing: an error at the glob."""
        [error] = gate_errors(
            [{"metric": "wall_time", "benchmark": "srot"}], PRESENT, what="of this run"
        )
        assert str(error) == (
            "gates[0].benchmark: expected a benchmark of this run (sort, "
            'scan), got "srot" (did you mean "sort"?)'
        )

    def test_matching_gates_pass(self) -> None:
        """Gates that select something are fine."""
        gates = [{"metric": "wall_time"}, {"metric": "max_rss", "benchmark": "s*"}]
        assert gate_errors(gates, PRESENT, what="of this run") == []

    def test_location(self) -> None:
        """Where the gate stands in the job file is passed in by the caller."""
        from perflab.errors import Location

        [error] = gate_errors(
            [{"metric": "time"}],
            PRESENT,
            what="of this run",
            where=lambda field: Location("job.yaml", 9, 14),
        )
        assert str(error).startswith("job.yaml:9:14: gates[0].metric: ")


class TestWaiverErrors:
    def test_a_waiver_that_matches_nothing(self) -> None:
        """A waiver of this job whose metric glob matches nothing is named with its id."""
        waivers = [
            {"id": 3, "benchmark": "*", "metric": "time", "job": "j"},
            {"id": 4, "benchmark": "so*", "metric": "wall_*", "job": "j"},
        ]
        [error] = waiver_errors(waivers, PRESENT, what="of job j's runs")
        assert "waiver 3" in str(error) and '"time" (did you mean "wall_time"?)' in str(error)
        assert "perflab baseline revoke 3" in str(error)

    def test_a_waiver_benchmark_glob_that_matches_nothing(self) -> None:
        """The benchmark glob counts too."""
        waivers = [{"id": 5, "benchmark": "BM_*", "metric": "*", "job": "j"}]
        [error] = waiver_errors(waivers, PRESENT, what="of job j's runs")
        assert "waiver 5" in str(error) and 'got "BM_*"' in str(error)


class TestPatterns:
    def test_each_pattern_must_match(self) -> None:
        """--metric time --metric wall_*: the one that matches nothing is the error."""
        [error] = unmatched_patterns(
            ["time", "wall_*"],
            ["wall_time", "max_rss"],
            field="--metric",
            what="a metric of the compared runs",
        )
        assert str(error) == (
            "--metric: expected a metric of the compared runs (wall_time, "
            'max_rss), got "time" (did you mean "wall_time"?)'
        )
