"""A run's raw outputs read from the store, on a machine that does not have its folder:
`results show|export|files|cat`, on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.store.conftest import pg_url  # noqa: F401 (fixture)

JOB = """\
name: files
benchmarks:
  - name: noisy
    command: [python3, -c, "import os, sys; r = os.environ['PERFLAB_REPETITION']; \
print('out', r); print('err', r, file=sys.stderr); sys.exit(r == '{fail}')"]
    format: time
repetitions: {{warmup: 1, runs: 3}}
"""


def run(cli, write_job, fail: str = "none") -> dict:
    result = cli("run", str(write_job(JOB.format(fail=fail))), "--json")
    assert result.status == (1 if fail != "none" else 0), result.err
    return result.json()


class TestElsewhere:
    def test_readable_after_the_folder_is_removed(self, cli, write_job, home: Path) -> None:
        """With the run folder gone, show, export, files and cat still work: every step's
        stdout and stderr, the job file, the request, events and environment are stored."""
        doc = run(cli, write_job)
        run_id = doc["run_id"]
        shutil.rmtree(home / "runs" / run_id)
        listed = {f["name"]: f for f in cli("results", "files", run_id, "--json").json()["files"]}
        steps = [
            f"steps/b0-{s}.{stream}"
            for s in ("w1", "r1", "r2", "r3")
            for stream in ("stdout", "stderr")
        ]
        expected = {
            "job.yaml",
            "request.json",
            "events.jsonl",
            "environment.json",
            "harness.log",
            *steps,
        }
        assert expected <= set(listed), sorted(listed)
        assert not any(f["truncated"] for f in listed.values())
        cat = cli("results", "cat", run_id, "steps/b0-r2.stdout")
        assert (cat.status, cat.out, cat.err) == (0, "out 2\n", "")
        assert cli("results", "cat", run_id[:6], "steps/b0-r3.stderr").out == "err 3\n"
        assert cli("results", "cat", run_id, "job.yaml").out == JOB.format(fail="none")
        shown = cli("results", "show", run_id, "--json").json()
        assert shown["benchmarks"] == doc["benchmarks"]
        assert shown["files"] == {
            "count": len(listed),
            "truncated": [],
            "size": sum(f["size"] for f in listed.values()),
            "stored": sum(f["stored"] for f in listed.values()),
        }
        csv = cli("results", "export", run_id, "--format", "csv").out.splitlines()
        assert len([line for line in csv if ",wall_time," in line]) == 3

    def test_another_home_on_the_same_database(
        self, cli, write_job, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A second machine (another PERFLAB_HOME, the same database) reads the raw files,
        and `results show` says how."""
        run_id = run(cli, write_job)["run_id"]
        monkeypatch.setenv("PERFLAB_DB_URL", f"sqlite:///{home / 'perflab.db'}")
        monkeypatch.setenv("PERFLAB_HOME", str(tmp_path / "elsewhere"))
        shown = cli("results", "show", run_id)
        assert shown.status == 0
        assert f"perflab results files {run_id}" in shown.out
        assert cli("results", "cat", run_id, "steps/b0-w1.stdout").out == "out 1\n"

    def test_a_failed_run_keeps_its_files(self, cli, write_job, home: Path) -> None:
        """A failed run's outputs are stored too, the failing step's stderr with them."""
        doc = run(cli, write_job, fail="2")
        assert doc["status"] == "failed"
        shutil.rmtree(home / "runs" / doc["run_id"])
        assert cli("results", "cat", doc["run_id"], "steps/b0-r2.stderr").out == "err 2\n"

    def test_an_experiment_keeps_every_variant(self, cli, write_job, home: Path) -> None:
        """Each run of a --vary experiment has its own files stored."""
        result = cli(
            "run", str(write_job(JOB.format(fail="none"))), "--vary", "env.X=1,2", "--json"
        )
        assert result.status == 0, result.err
        ids = [r["run_id"] for r in result.json()["runs"]]
        assert len(ids) == 2
        for run_id in ids:
            shutil.rmtree(home / "runs" / run_id)
            assert cli("results", "cat", run_id, "steps/b0-r1.stdout").out == "out 1\n"
            assert "variant" in cli("results", "cat", run_id, "job.yaml").out


class TestLimits:
    def test_a_file_over_the_cap_is_cut_and_said_so(
        self, cli, write_job, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With a small per-file cap, a long output is stored cut: `results cat` prints
        what was kept and says so on stderr; the run carries a flag."""
        monkeypatch.setenv("PERFLAB_FILE_MAX_BYTES", "1000")
        job = JOB.format(fail="none").replace("print('out', r)", "print('x' * 5000)")
        doc = cli("run", str(write_job(job)), "--json").json()
        [flag] = [f for f in doc["flags"] if f["code"] == "files_truncated"]
        assert "steps/b0-r1.stdout" in flag["evidence"]["files"]
        assert "steps/b0-r1.stdout" in doc["files"]["truncated"]
        cat = cli("results", "cat", doc["run_id"], "steps/b0-r1.stdout")
        assert cat.status == 0 and cat.out.startswith("x" * 500) and "cut here" in cat.out
        assert "truncated" in cat.err and "5001" in cat.err
        listed = cli("results", "files", doc["run_id"])
        assert "truncated" in listed.out

    def test_a_bad_limit_is_bad_input(
        self, cli, write_job, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An unreadable limit is refused before anything runs (exit 3, naming it)."""
        monkeypatch.setenv("PERFLAB_RUN_FILES_MAX_BYTES", "a lot")
        result = cli("run", str(write_job(JOB.format(fail="none"))))
        assert result.status == 3 and "PERFLAB_RUN_FILES_MAX_BYTES" in result.err
        monkeypatch.delenv("PERFLAB_RUN_FILES_MAX_BYTES")  # (every command refuses it)
        assert cli("results", "list", "--json").json()["runs"] == []


class TestErrors:
    def test_unknown_file(self, cli, write_job) -> None:
        """Asking for a file the run does not have is bad input, saying how to list them."""
        run_id = run(cli, write_job)["run_id"]
        result = cli("results", "cat", run_id, "steps/nope")
        assert result.status == 3 and f"perflab results files {run_id}" in result.err


class TestPostgres:
    def test_run_and_read_on_postgres(
        self,
        cli,
        write_job,
        home: Path,
        pg_url: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The same on the shared PostgreSQL: run, remove the folder, read the files."""
        monkeypatch.setenv("PERFLAB_DB_URL", pg_url)
        doc = run(cli, write_job)
        shutil.rmtree(home / "runs" / doc["run_id"])
        assert cli("results", "cat", doc["run_id"], "steps/b0-r3.stdout").out == "out 3\n"
        names = {
            f["name"] for f in cli("results", "files", doc["run_id"], "--json").json()["files"]
        }
        assert "harness.log" in names and "steps/b0-r1.stderr" in names
