"""Counts, durations and numbers in job files have documented bounds (docs/jobs.md, Limits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError, SpecErrors
from perflab.limits import MAX_DURATION_S, MAX_REPETITIONS, MAX_RUNS, MAX_WARMUP
from perflab.spec.job import parse_job
from perflab.spec.schema import load_schema
from tests.cli.capped import run_capped

HEAD = 'name: t\nbenchmarks:\n  - {name: a, command: ["true"], format: time}\n'


def errors_of(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_job(text, "j.yaml")
    exc = caught.value
    assert exc.exit_status == 3
    return [str(e) for e in exc.errors] if isinstance(exc, SpecErrors) else [str(exc)]


class TestCounts:
    @pytest.mark.parametrize(
        ("field", "most"), [("runs", MAX_RUNS), ("warmup", MAX_WARMUP), ("max_runs", MAX_RUNS)]
    )
    def test_a_trillion_is_refused(self, field: str, most: int) -> None:
        """runs: 1000000000000 (a MemoryError in planning) is refused at the field."""
        found = errors_of(HEAD + f"repetitions: {{{field}: 1000000000000}}\n")
        assert found == [
            f"j.yaml:4:{17 + len(field)}: repetitions.{field}: expected an "
            f"integer >= {0 if field == 'warmup' else 1} and <= {most}, got "
            "1000000000000"
        ]

    def test_the_bounds_are_accepted(self) -> None:
        """The bounds themselves are fine."""
        job = parse_job(HEAD + f"repetitions: {{warmup: 0, runs: {MAX_RUNS}}}\n", "j.yaml")
        assert job.repetitions.runs == MAX_RUNS

    def test_repetitions_in_all(self) -> None:
        """Every benchmark's warmups and runs count: 20 x (1 + 10,000) is too many."""
        benches = "".join(f'  - {{name: b{i}, command: ["true"]}}\n' for i in range(20))
        found = errors_of(f"name: t\nbenchmarks:\n{benches}repetitions: {{runs: 10000}}\n")
        assert found == [
            f"j.yaml:23:14: repetitions: expected at most {MAX_REPETITIONS} "
            "repetitions in all (warmups included), got 200020 (20 benchmarks x "
            "(1 warmup + 10000 runs))"
        ]

    def test_max_runs_counts_in_the_total(self) -> None:
        """Adaptive repetitions may grow to max_runs: that is what counts."""
        found = errors_of(HEAD + f"repetitions: {{runs: 10, max_runs: {MAX_RUNS}}}\n")
        assert "got 100001 (1 benchmark x (1 warmup + 100000 runs))" in found[0]

    def test_the_schema_says_the_same(self) -> None:
        """schemas/job.schema.json carries the same bounds as perflab.limits."""
        reps = load_schema("job")["properties"]["repetitions"]["properties"]
        assert reps["runs"]["maximum"] == reps["max_runs"]["maximum"] == MAX_RUNS
        assert reps["warmup"]["maximum"] == MAX_WARMUP


class TestDurations:
    @pytest.mark.parametrize(
        "value",
        [
            "0s",
            "0ms",
            "0",
            "0.0",
            "500us",
            "0.0009s",
            "721h",
            f"{MAX_DURATION_S + 1}",
            "9" * 400 + "s",
        ],
    )
    @pytest.mark.parametrize(
        "field",
        ["timeout.repetition", "timeout.job", "benchmarks[0].timeout", "repetitions.max_time"],
    )
    def test_out_of_range(self, field: str, value: str) -> None:
        """0s used to mean the 600 s default silently; below 1ms or above 30 days is refused."""
        text = {
            "timeout.repetition": f"timeout: {{repetition: {value}}}\n",
            "timeout.job": f"timeout: {{job: {value}}}\n",
            "repetitions.max_time": f"repetitions: {{max_time: {value}, runs: 2}}\n",
            "benchmarks[0].timeout": "",
        }[field]
        head = (
            HEAD.replace("format: time}", f"format: time, timeout: {value}}}")
            if field.startswith("benchmarks")
            else HEAD
        )
        found = errors_of(head + text)
        assert (
            len(found) == 1 and f": {field}: expected a duration from 1ms to 30 days" in found[0]
        ), found

    @pytest.mark.parametrize(
        ("value", "expected"), [("1ms", 0.001), ("720h", 2_592_000.0), ("0.5", 0.5), ("2m", 120.0)]
    )
    def test_in_range(self, value: str, expected: float) -> None:
        """The bounds are inclusive."""
        assert (
            parse_job(HEAD + f"timeout: {{repetition: {value}}}\n", "j.yaml").repetition_timeout
            == expected
        )


class TestNonFinite:
    @pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
    @pytest.mark.parametrize(
        ("field", "text"),
        [
            ("benchmarks[0].timeout", "benchmarks:\n  - {name: a, command: [x], timeout: V}\n"),
            ("timeout.repetition", "timeout: {repetition: V}\n"),
            ("compare.noise_band", "compare: {noise_band: V}\n"),
            ("compare.expected_tail", "compare: {expected_tail: V}\n"),
            ("compare.confidence", "compare: {confidence: V}\n"),
            ("gates[0].max", "gates: [{metric: wall_time, max: V}]\n"),
            ("env.X", "env: {X: V}\n"),
        ],
    )
    def test_refused_in_any_number(self, field: str, text: str, value: str) -> None:
        """.nan and .inf are not numbers a job can use (.nan used to crash the harness)."""
        base = HEAD if not text.startswith("benchmarks") else "name: t\n"
        found = errors_of(base + text.replace("V", value))
        assert len(found) == 1 and f": {field}: expected " in found[0], found
        assert found[0].endswith(f"got {value.replace('.', '')}")


class TestRunRefusesEarly:
    def test_run_with_a_trillion_runs(self, tmp_path: Path) -> None:
        """`perflab run` of runs: 1000000000000 is exit 3 at once (it was a MemoryError)."""
        path = tmp_path / "job.yaml"
        path.write_text(HEAD + "repetitions: {runs: 1000000000000}\n")
        child = run_capped("run", str(path), home=tmp_path / "home", timeout=30)
        assert child.status == 3, child.err
        assert "repetitions.runs: expected an integer >= 1 and <= 100000" in child.err
