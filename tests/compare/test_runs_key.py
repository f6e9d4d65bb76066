"""`runs: N x processes`: one `perflab run` executes the job as N separate runs, stored with
(run, process) labels, and a comparison treats that side as N runs (docs/statistics.md,
"Runs as a unit of variance")."""

from __future__ import annotations

import json
from pathlib import Path

from perflab.compare.sides import run_side
from perflab.store import open_store

JOB = """\
name: parts
benchmarks:
  - name: noop
    command: ["true"]
    format: time
  - name: other
    command: ["true"]
    format: time
runs: {runs}
repetitions: {{warmup: 1{extra}}}
"""


def job_file(write_job, runs: str = '"3 x 4"', extra: str = "") -> Path:
    return write_job(JOB.format(runs=runs, extra=extra))


def run(cli, job: Path) -> dict:
    result = cli("run", str(job), "--json")
    assert result.status == 0, result.err
    return result.json()


class TestOneRunIsNRuns:
    def test_labels_steps_and_compare(self, cli, write_job, home: Path) -> None:
        """runs: "3 x 4": 3 runs of 4 fresh processes each (with their own warmup), the
        repetitions 1-4, 5-8, 9-12 are runs 0, 1, 2; the environment's size and the
        benchmark order are drawn anew per run; compare counts the runs of both sides."""
        job = job_file(write_job)
        doc = run(cli, job)
        wall = doc["benchmarks"][0]["metrics"]["wall_time"]
        assert len(wall["samples"]) == 12
        kinds = [(r["kind"], r["benchmark"], r["index"]) for r in doc["repetitions"]]
        for bench in ("noop", "other"):
            assert [i for k, b, i in kinds if b == bench and k == "warmup"] == [1, 2, 3]
            assert [i for k, b, i in kinds if b == bench and k == "run"] == list(range(1, 13))
        store = open_store()
        try:
            view = store.runs.get(doc["run_id"])
            assert view.sample_repetitions[("noop", "wall_time")] == list(range(1, 13))
            side = run_side(store, doc["run_id"])
        finally:
            store.close()
        assert side.groups[("noop", "wall_time")] == [
            (part, rep) for part in range(3) for rep in range(4 * part + 1, 4 * part + 5)
        ]
        request = json.loads((home / "runs" / doc["run_id"] / "request.json").read_text())
        steps = {s["id"]: s for s in request["steps"]}
        parts = {s["env"]["PERFLAB_RUN_PART"] for s in steps.values()}
        assert parts == {"1", "2", "3"}
        assert [steps[f"b0-r{r}"]["env"]["PERFLAB_RUN_PART"] for r in (1, 4, 5, 9, 12)] == [
            "1",
            "1",
            "2",
            "3",
            "3",
        ]
        pads = {len(steps[f"b0-r{4 * p + 1}"]["env"]["PERFLAB_ENV_PAD"]) for p in range(3)}
        assert len(pads) > 1  # the environment's size is drawn anew per run

        second = run(cli, job)
        compared = cli("compare", doc["run_id"], second["run_id"], "--json")
        assert compared.status in (0, 4), compared.err
        rows = compared.json()["rows"]
        # every row of positive samples is hierarchical (a zero has no logarithm)
        assert {tuple(r["runs"]) for r in rows if r["metric"] == "wall_time"} == {(3, 3)}
        # a baseline of the last 2 stored runs is 6 runs: resampled (>= 5), labels distinct
        third = run(cli, job)
        widened = cli("compare", second["run_id"], third["run_id"], "--baseline-runs", "2")
        assert widened.status in (0, 4), widened.err
        doc = cli(
            "compare", second["run_id"], third["run_id"], "--baseline-runs", "2", "--json"
        ).json()
        assert {tuple(r["runs"]) for r in doc["rows"] if r["metric"] == "wall_time"} == {(6, 3)}
        assert doc["baseline"]["runs"] == [second["run_id"], doc["baseline"]["runs"][1]]

    def test_runs_n_keeps_repetitions_runs(self, cli, write_job) -> None:
        """runs: 2 with repetitions.runs 3: 2 runs of 3 processes."""
        doc = run(cli, job_file(write_job, runs="2", extra=", runs: 3"))
        assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 6
        store = open_store()
        try:
            side = run_side(store, doc["run_id"])
        finally:
            store.close()
        assert [r for r, _ in side.groups[("noop", "wall_time")]] == [0, 0, 0, 1, 1, 1]


class TestBadRunsKey:
    def test_not_a_count(self, cli, write_job) -> None:
        result = cli("validate", str(job_file(write_job, runs='"three"')))
        assert result.status == 3
        assert 'job.yaml:9:7: runs: expected a number of runs (3) or "RUNS x PROCESSES"' in (
            result.err
        )

    def test_disagrees_with_repetitions_runs(self, cli, write_job) -> None:
        result = cli("validate", str(job_file(write_job, extra=", runs: 5")))
        assert result.status == 3
        assert 'job.yaml:9:7: runs: expected "3 x 4" to agree with repetitions.runs (5)' in (
            result.err
        )

    def test_not_with_adaptive_repetitions(self, cli, write_job) -> None:
        result = cli("validate", str(job_file(write_job, extra=", max_runs: 20")))
        assert result.status == 3
        assert "repetitions.max_runs: expected either runs: N or adaptive repetitions" in (
            result.err
        )

