"""Job files: loading, typing, and errors that point at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import ExitStatus, InputError, SpecErrors
from perflab.spec.job import load_job, parse_job

GOOD = """\
name: router
description: route lookups
workdir: .
env: {MODE: fast, THREADS: 4, DEBUG: false}
setup:
  - run: make -j2
    timeout: 2m
benchmarks:
  - name: lookup
    command: ./bench --lookup
    format: go
  - name: insert
    command: [./bench, --insert]
    output: out.json
    format: gbench
repetitions: {warmup: 2, runs: 15, fresh_process: true, order: interleaved}
timeout: {repetition: 90s, job: 1h}
pin: {cpus: "1-3"}
artifacts: ["profiles/*.svg"]
tags: [net]
gates:
  - {metric: time, stat: p95, max_increase: 10%}
  - {metric: time, stat: p99, max: 200us}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_job(text, "jobs/router.yaml")
    exc = caught.value
    return [str(e) for e in exc.errors] if isinstance(exc, SpecErrors) else [str(exc)]


class TestParseJob:
    def test_a_full_job_is_typed(self, tmp_path: Path) -> None:
        """Every field of a valid job lands typed in the Job, durations in seconds."""
        path = tmp_path / "job.yaml"
        path.write_text(GOOD)
        job = load_job(path)
        assert job.name == "router"
        assert job.workdir == str(tmp_path)
        assert job.env == {"MODE": "fast", "THREADS": "4", "DEBUG": "0"}
        assert job.setup[0].command == "make -j2" and job.setup[0].timeout == 120.0
        assert [b.name for b in job.benchmarks] == ["lookup", "insert"]
        assert job.benchmarks[1].command == ["./bench", "--insert"]
        assert job.benchmarks[1].output == "out.json" and job.benchmarks[0].output is None
        assert job.repetitions.warmup == 2 and job.repetitions.runs == 15
        assert job.repetitions.order == "interleaved"
        assert job.repetition_timeout == 90.0 and job.job_timeout == 3600.0
        assert job.cpus == [1, 2, 3]
        assert job.gates[1]["max"] == "200us"
        assert len(job.sha256) == 64

    def test_defaults(self) -> None:
        """A minimal job runs 1 warmup + 10 runs on the reserved CPUs, format auto."""
        job = parse_job("name: x\nbenchmarks: [{name: a, command: 'true'}]\n", "x.yaml")
        assert (job.repetitions.warmup, job.repetitions.runs) == (1, 10)
        assert job.cpus == "reserved"
        assert job.benchmarks[0].format == "auto"

    def test_the_issue_example_message(self) -> None:
        """A word where a count belongs is reported exactly as the issue shows."""
        text = GOOD.replace("runs: 15", "runs: ten")
        assert errors_of(text) == [
            "jobs/router.yaml:16:32: repetitions.runs: expected an integer >= 1 and <= 100000, "
            'got "ten"'
        ]

    def test_unknown_key_suggests(self) -> None:
        """A misspelt key is an error with a did-you-mean suggestion at the key."""
        text = GOOD.replace("    format: go", "    fromat: go")
        [message] = errors_of(text)
        assert message.startswith("jobs/router.yaml:11:5: benchmarks[0].fromat: unknown key")
        assert 'did you mean "format"?' in message

    def test_all_errors_are_reported_in_file_order(self) -> None:
        """Several problems come back together, sorted by line."""
        text = GOOD.replace("warmup: 2", "warmup: -1").replace('cpus: "1-3"', 'cpus: "2-"')
        messages = errors_of(text)
        assert len(messages) == 2
        assert messages[0].startswith("jobs/router.yaml:16:")
        assert "repetitions.warmup: expected an integer >= 0 and <= 10000, got -1" in messages[0]
        assert messages[1].startswith("jobs/router.yaml:18:")
        assert (
            'pin.cpus: expected "reserved", "all" or a CPU list like "2-5,8", got "2-"'
            in messages[1]
        )

    def test_missing_required_field(self) -> None:
        """A job without benchmarks names the missing field."""
        [message] = errors_of("name: x\n")
        assert "missing required field 'benchmarks'" in message
        assert message.startswith("jobs/router.yaml:1:1:")

    def test_not_a_mapping(self) -> None:
        """A YAML list where a job belongs is refused with a clear kind."""
        [message] = errors_of("- a\n- b\n")
        assert message == "jobs/router.yaml:1:1: expected a mapping (a job), got list"

    def test_empty_file(self) -> None:
        """An empty file is not a job."""
        [message] = errors_of("")
        assert "expected a mapping (a job), got empty" in message

    def test_malformed_yaml_points_at_the_problem(self) -> None:
        """Broken YAML is an input error with a position, never a traceback."""
        [message] = errors_of("name: x\nbenchmarks: [{name: a, command: b}\n")
        assert message.startswith("jobs/router.yaml:3:1: invalid YAML")

    def test_duplicate_keys_are_refused(self) -> None:
        """YAML silently keeps the last duplicate; perflab refuses it."""
        [message] = errors_of("name: x\nname: y\nbenchmarks: [{name: a, command: b}]\n")
        assert message.startswith("jobs/router.yaml:2:1: name: duplicate key 'name'")

    def test_duplicate_benchmark_names(self) -> None:
        """Two benchmarks with one name would mix their samples."""
        [message] = errors_of(
            "name: x\nbenchmarks: [{name: a, command: b}, {name: a, command: c}]\n"
        )
        assert "benchmarks[1].name: duplicate benchmark name" in message

    def test_artifact_globs_must_stay_in_the_workdir(self) -> None:
        """An artifact glob with '..' or an absolute path is refused."""
        for bad in ("../secrets/*", "/etc/passwd"):
            text = GOOD.replace('"profiles/*.svg"', f'"{bad}"')
            [message] = errors_of(text)
            assert "artifacts[0]: expected a glob relative to the workdir" in message

    def test_max_runs_below_runs(self) -> None:
        """An adaptive budget smaller than the fixed runs makes no sense."""
        text = GOOD.replace("order: interleaved", "order: interleaved, max_runs: 5")
        [message] = errors_of(text)
        assert "repetitions.max_runs: expected max_runs >= runs (15), got 5" in message

    def test_exit_status_is_three(self) -> None:
        """Every spec problem is invalid input."""
        with pytest.raises(InputError) as caught:
            parse_job("name: 3\nbenchmarks: []\n", "x.yaml")
        assert caught.value.exit_status == ExitStatus.INVALID_INPUT


TIMED = """\
name: sort
benchmarks:
  - name: sort-300k
    command: [python3, sort.py]
    format: time
gates:
  - {metric: wall_time, stat: p95, max_increase: 10%}
  - {metric: time, stat: p95, max_increase: 10%}
"""


class TestGateNames:
    def test_a_metric_the_format_never_produces(self) -> None:
        """`metric: time` on a time job gates nothing: refused where it stands, with the names
        the format produces and the one probably meant."""
        [message] = errors_of(TIMED)
        assert message.startswith(
            "jobs/router.yaml:8:14: gates[1].metric: expected a metric "
            "the time format produces (wall_time, user_time, "
        )
        assert message.endswith('got "time" (did you mean "wall_time"?)')

    def test_open_ended_formats_are_checked_at_run_time(self) -> None:
        """Go (custom units), gbench (counters), jmh, perflab and auto can produce any name."""
        for fmt in ("go", "gbench", "jmh", "perflab", "auto"):
            job = parse_job(TIMED.replace("format: time", f"format: {fmt}"), "x.yaml")
            assert job.gates[1]["metric"] == "time"

    def test_closed_tool_formats(self) -> None:
        """hyperfine produces time and max_rss only."""
        text = TIMED.replace("format: time", "format: hyperfine").replace("wall_time", "rss")
        [message] = errors_of(text)
        assert (
            "gates[0].metric: expected a metric the hyperfine format produces (time, "
            'max_rss), got "rss" (did you mean "max_rss"?)' in message
        )

    def test_only_the_benchmarks_a_gate_selects(self) -> None:
        """A gate limited to the time benchmark is checked against the time format, even when
        another benchmark's format has the name."""
        text = TIMED.replace(
            "gates:",
            """\
  - name: scan
    command: ./scan
    format: go
gates:""",
        ).replace("{metric: time,", '{benchmark: "sort-*", metric: time,')
        [message] = errors_of(text)
        assert "gates[1].metric: expected a metric the time format produces" in message
        assert parse_job(text.replace('"sort-*"', '"scan/*"'), "x.yaml").gates

    def test_a_benchmark_glob_that_selects_nothing(self) -> None:
        """With several benchmarks a tool's names are prefixed ("insert/BM_x"): a bare "BM_*"
        selects nothing, and a time benchmark is named exactly."""
        text = TIMED.replace(
            "gates:",
            """\
  - name: insert
    command: ./bench
    format: gbench
gates:""",
        ).replace("{metric: time,", '{benchmark: "BM_*", metric: time,')
        [message] = errors_of(text)
        assert message.startswith(
            "jobs/router.yaml:11:17: gates[1].benchmark: expected a "
            'benchmark of this job (sort-300k, insert/*), got "BM_*"'
        )

    def test_a_single_tool_benchmark_keeps_the_tool_names(self) -> None:
        """One benchmark: the tool's own names, unknown before the run; any glob may match."""
        text = TIMED.replace("format: time", "format: gbench").replace(
            "{metric: time,", '{benchmark: "BM_*", metric: time,'
        )
        assert parse_job(text, "x.yaml").gates[1]["benchmark"] == "BM_*"


class TestLoadJob:
    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is named."""
        with pytest.raises(InputError, match=r"nope\.yaml: no such file"):
            load_job(tmp_path / "nope.yaml")

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A file that is not UTF-8 is refused with the byte offset."""
        path = tmp_path / "bin.yaml"
        path.write_bytes(b"name: \xff\xfe\n")
        with pytest.raises(InputError, match="not UTF-8"):
            load_job(path)

    def test_directory(self, tmp_path: Path) -> None:
        """A directory is not a job file."""
        with pytest.raises(InputError, match="is a directory"):
            load_job(tmp_path)


class TestProgram:
    @pytest.mark.parametrize(
        ("command", "program"),
        [
            ("./bench --x", "./bench"),
            (["go", "test"], "go"),
            ("FOO=1 ./x", None),
            ("cd sub && ./x", None),
            ("$BIN run", None),
            ("python3 -c 'print(1)'", "python3"),
        ],
    )
    def test_program_of_a_command(self, command: str | list[str], program: str | None) -> None:
        """Only commands whose program is certain without a shell are checked before running."""
        job = parse_job(
            f"name: x\nbenchmarks: [{{name: a, command: {command!r}}}]\n"
            if isinstance(command, str)
            else "name: x\nbenchmarks: [{name: a, command: [go, test]}]\n",
            "x.yaml",
        )
        assert job.benchmarks[0].program() == program
