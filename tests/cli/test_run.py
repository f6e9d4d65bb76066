"""`perflab run` on the local runner, end to end through the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FAST = """\
name: fast
benchmarks:
  - name: noop
    command: [python3, -c, "import sys; print('hello'); sys.exit(0)"]
    format: time
repetitions: {warmup: 1, runs: 3}
"""


class TestRun:
    def test_json_run_is_stored(self, cli, write_job) -> None:
        """A run prints one JSON document and the same run is stored with its samples."""
        result = cli("run", str(write_job(FAST)), "--json")
        assert result.status == 0, result.err
        doc = result.json()
        assert doc["status"] == "completed" and doc["runner"] == "local"
        wall = doc["benchmarks"][0]["metrics"]["wall_time"]
        assert wall["unit"] == "ns" and wall["direction"] == "lower" and len(wall["samples"]) == 3
        assert doc["environment"]["kernel"] and doc["environment"]["cpu"]["count"] >= 1
        assert doc["fingerprint"] and doc["job_sha256"]
        assert [r["kind"] for r in doc["repetitions"]] == ["warmup", "run", "run", "run"]
        for rep in doc["repetitions"]:  # contamination evidence for every measured step
            assert 0.0 <= rep["other_share"] <= 1.0 and 0.0 <= rep["steal_share"] <= 1.0
            assert rep["evidence_window"] >= 1
        shown = cli("results", "show", doc["run_id"], "--json").json()
        assert shown["benchmarks"] == doc["benchmarks"]
        listed = cli("results", "list", "--json").json()["runs"]
        assert [r["run_id"] for r in listed] == [doc["run_id"]]

    def test_human_output(self, cli, write_job) -> None:
        """Without --json the run ends with a table and where the raw outputs are."""
        result = cli("run", str(write_job(FAST)))
        assert result.status == 0
        assert "wall_time" in result.out and "raw outputs and logs" in result.out
        # the contamination evidence of the measured repetitions, whatever this machine's load
        assert re.search(
            r"others +used \d+% of the benchmark's CPUs \(median; max \d+%\), "
            r"steal \d+%; \d/3 repetitions at or above 10%",
            result.out,
        ), result.out

    def test_raw_outputs_are_kept(self, cli, write_job, home: Path) -> None:
        """Every step's stdout is kept under the run folder, with the job file and request."""
        doc = cli("run", str(write_job(FAST)), "--json").json()
        folder = home / "runs" / doc["run_id"]
        assert (folder / "steps" / "b0-r2.stdout").read_text() == "hello\n"
        assert (folder / "job.yaml").read_text() == FAST
        assert json.loads((folder / "result.json").read_text())["run_id"] == doc["run_id"]

    def test_export_csv(self, cli, write_job) -> None:
        """CSV export has one row per raw sample with its repetition."""
        doc = cli("run", str(write_job(FAST)), "--json").json()
        lines = cli("results", "export", doc["run_id"], "--format", "csv").out.splitlines()
        assert lines[0].startswith("run_id,job,runner,benchmark,params,metric")
        walls = [line for line in lines if ",wall_time," in line]
        assert [line.split(",")[9] for line in walls] == ["1", "2", "3"]

    def test_extra_env(self, cli, write_job) -> None:
        """--env NAME=VALUE reaches the benchmark."""
        job = FAST.replace("print('hello')", "import os; print(os.environ['GREETING'])")
        doc = cli("run", str(write_job(job)), "--json", "--env", "GREETING=hi").json()
        out = Path(doc["repetitions"][1]["stdout_path"]).read_text()
        assert out == "hi\n"


class TestFailures:
    def test_failing_repetition_marks_the_run_failed(self, cli, write_job) -> None:
        """A failing repetition is recorded with its stderr tail; the good ones are kept."""
        job = FAST.replace(
            "import sys; print('hello'); sys.exit(0)",
            "import os, sys; r = int(os.environ['PERFLAB_REPETITION']); "
            "print('bad', file=sys.stderr) if r == 2 else None; sys.exit(r == 2)",
        )
        result = cli("run", str(write_job(job)), "--json")
        assert result.status == 1
        doc = result.json()
        assert doc["status"] == "failed" and "noop run 2: exit status 1" in doc["message"]
        assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 2
        bad = [r for r in doc["repetitions"] if r["exit_status"] == 1]
        assert bad[0]["stderr_tail"] == "bad"

    def test_timeout(self, cli, write_job) -> None:
        """A repetition over its timeout is killed and reported as timed out."""
        job = FAST.replace("import sys; print('hello'); sys.exit(0)", "import time; time.sleep(5)")
        job += "timeout: {repetition: 300ms}\n"
        doc = cli("run", str(write_job(job)), "--json").json()
        assert doc["status"] == "failed" and "timed out after 0.3 s" in doc["message"]

    def test_missing_command_is_bad_input(self, cli, write_job) -> None:
        """A benchmark program that does not exist: exit 3, pointing at the command."""
        job = FAST.replace(
            "[python3, -c, \"import sys; print('hello'); sys.exit(0)\"]",
            "./no-such-benchmark --fast",
        )
        result = cli("run", str(write_job(job)))
        assert result.status == 3
        assert (
            "job.yaml:4:14: benchmarks[0].command: command not found on local: "
            '"./no-such-benchmark"' in result.err
        )

    def test_missing_workdir(self, cli, write_job) -> None:
        """A workdir that does not exist: exit 3 naming the field, nothing run."""
        result = cli("run", str(write_job(FAST + "workdir: nowhere\n")))
        assert result.status == 3
        assert "workdir: expected an existing directory on local" in result.err
        assert cli("results", "list", "--json").json()["runs"] == []

    def test_format_mismatch_keeps_the_raw_output(self, cli, write_job, home: Path) -> None:
        """Output that is not the declared format: exit 3; the run and its output are kept."""
        job = FAST.replace("format: time", "format: go")
        result = cli("run", str(write_job(job)))
        assert result.status == 3
        assert "go output" in result.err
        [run] = cli("results", "list", "--json").json()["runs"]
        assert run["status"] == "failed"
        assert (home / "runs" / run["run_id"] / "steps" / "b0-r1.stdout").read_text() == "hello\n"

    def test_schema_error(self, cli, write_job) -> None:
        """A schema violation: exit 3 with file:line:col."""
        result = cli("run", str(write_job(FAST.replace("runs: 3", "runs: ten"))))
        assert result.status == 3
        assert (
            'job.yaml:6:32: repetitions.runs: expected an integer >= 1 and <= 100000, got "ten"'
        ) in result.err

    def test_missing_job_file(self, cli, tmp_path: Path) -> None:
        """A job file that does not exist: exit 3."""
        result = cli("run", str(tmp_path / "nope.yaml"))
        assert result.status == 3 and "nope.yaml: no such file" in result.err

    def test_unreadable_job_file(self, cli, write_job) -> None:
        """A job file that cannot be read: exit 3 (root reads everything, so use a directory)."""
        result = cli("run", str(write_job(FAST).parent))
        assert result.status == 3 and "is a directory" in result.err

    def test_yaml_that_is_not_a_mapping(self, cli, write_job) -> None:
        """A YAML list is not a job."""
        result = cli("run", str(write_job("- just\n- a list\n")))
        assert result.status == 3 and "expected a mapping (a job), got list" in result.err

    def test_bad_database_url(self, cli, write_job, monkeypatch: pytest.MonkeyPatch) -> None:
        """A PERFLAB_DB_URL that cannot be opened: exit 3 naming it."""
        monkeypatch.setenv("PERFLAB_DB_URL", "postgresql+psycopg://u@127.0.0.1:1/none")
        result = cli("run", str(write_job(FAST)))
        assert result.status == 3 and "cannot open database" in result.err

    def test_unknown_runner(self, cli, write_job) -> None:
        """An unknown runner: exit 3."""
        result = cli("run", str(write_job(FAST)), "--runner", "nope")
        assert result.status == 3 and 'unknown runner "nope"' in result.err

    def test_bad_env_option(self, cli, write_job) -> None:
        """--env without '=' is bad input."""
        result = cli("run", str(write_job(FAST)), "--env", "JUSTANAME")
        assert result.status == 3 and "expected NAME=VALUE" in result.err


class TestInterrupt:
    def test_ctrl_c_keeps_what_was_measured(self, tmp_path: Path) -> None:
        """SIGINT mid-run: exit 130, the run is stored as interrupted with its samples."""
        job = tmp_path / "slow.yaml"
        job.write_text(
            FAST.replace("runs: 3", "runs: 50").replace(
                "import sys; print('hello'); sys.exit(0)", "import time; time.sleep(0.2)"
            )
        )
        env = {**os.environ, "PERFLAB_HOME": str(tmp_path / "home")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "perflab", "run", str(job), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs = tmp_path / "home" / "runs"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the event journal grows as repetitions finish
            journals = list(runs.glob("*/events.jsonl"))
            if journals and journals[0].read_text().count('"kind": "run"') >= 3:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        doc = json.loads(out)
        assert doc["status"] == "interrupted"
        samples = doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]
        assert 3 <= len(samples) < 50
        assert "interrupted" in err


class TestProgress:
    def test_progress_bar_only_on_a_terminal(self, home, write_job) -> None:
        """A terminal gets a progress bar; --json gets one JSON document and nothing else."""
        import io

        from perflab.cli.env import Env
        from perflab.cli.main import run_cli

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        seen: list[str] = []

        class Watching(Terminal):
            def write(self, text: str) -> int:
                seen.append(text)
                return super().write(text)

        env = Env(stdout=Watching(), stderr=io.StringIO())
        assert run_cli(["run", str(write_job(FAST))], env) == 0
        assert any("run " in chunk and "/" in chunk for chunk in seen), "a progress line"
        env = Env(stdout=Terminal(), stderr=io.StringIO())
        assert run_cli(["run", str(write_job(FAST)), "--json"], env) == 0
        json.loads(env.stdout.getvalue())  # type: ignore[attr-defined]
