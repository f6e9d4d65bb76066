"""perflab.api.run: the one call behind `perflab run`, a queue worker and the tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from perflab import api
from perflab.errors import ExitStatus
from perflab.execute.vary import parse_vary
from perflab.spec.job import parse_job

PYTHON = json.dumps(sys.executable)


def job(tmp_path: Path, extra: str = "", runs: int = 2) -> object:
    text = (
        f"name: api\nworkdir: {tmp_path}\nbenchmarks:\n  - name: w\n    command: "
        f"[{PYTHON}, -c, \"import os; sum(range(int(os.environ.get('N', '1000'))))\"]\n"
        f"    format: time\n    env: {{N: '1000'}}\n"
        f"repetitions: {{warmup: 0, runs: {runs}}}\n{extra}"
    )
    return parse_job(text, str(tmp_path / "api.yaml"))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PERFLAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PERFLAB_DB_URL", raising=False)
    return tmp_path / "home"


class TestRun:
    def test_plain_run(self, tmp_path: Path) -> None:
        """A request in, a result out: the run stored, its document, exit status 0."""
        result = api.run(api.RunRequest(job(tmp_path), run_id="0a1b2c3d"))
        assert result.kind == "run" and result.exit_status == ExitStatus.OK
        [doc] = result.runs
        assert doc["run_id"] == "0a1b2c3d" and doc["status"] == "completed"
        assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 2
        assert result.problem is None

    def test_vary_is_an_experiment(self, tmp_path: Path) -> None:
        """--vary: one run per value in one experiment, interleaved."""
        request = api.RunRequest(job(tmp_path), vary=parse_vary(("N=1000,2000",)))
        result = api.run(request)
        assert result.kind == "experiment" and result.exit_status == ExitStatus.OK
        assert [r["variant"]["value"] for r in result.runs] == ["1000", "2000"]
        assert result.experiment is not None and len(result.experiment.rounds) == 2

    def test_ab_job_is_compared(self, tmp_path: Path) -> None:
        """An A/B job: two runs and B's paired comparison against A."""
        result = api.run(
            api.RunRequest(job(tmp_path, "ab: {vary: N, values: ['1000', '1001']}\n", runs=4))
        )
        assert result.kind == "ab" and len(result.runs) == 2
        assert result.comparison is not None
        assert {r["benchmark"] for r in result.comparison.to_dict()["rows"]} == {"w"}

    def test_ab_with_vary_is_bad_input(self, tmp_path: Path) -> None:
        """A/B already varies one thing: --vary beside it is exit 3, nothing runs."""
        from perflab.errors import InputError

        with pytest.raises(InputError):
            api.run(
                api.RunRequest(
                    job(tmp_path, "ab: {vary: N, values: ['1', '2']}\n"),
                    vary=parse_vary(("N=3,4",)),
                )
            )

    def test_a_failing_benchmark_is_exit_1(self, tmp_path: Path) -> None:
        """The run is stored failed; the result says 1."""
        failing = parse_job(
            f"name: f\nworkdir: {tmp_path}\nbenchmarks:\n  - name: x\n"
            f"    command: [{PYTHON}, -c, 'raise SystemExit(3)']\n"
            "    format: time\nrepetitions: {warmup: 0, runs: 1}\n",
            str(tmp_path / "f.yaml"),
        )
        result = api.run(api.RunRequest(failing))
        assert result.exit_status == ExitStatus.ERROR
        assert result.runs[0]["status"] == "failed"
