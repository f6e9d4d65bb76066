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
        # a verdict between two real runs of `true` on a busy machine may go either way:
        # what is asserted is how many runs each side is
        compared = cli("compare", doc["run_id"], second["run_id"], "--json")
        assert compared.status in (0, 2, 4), compared.err
        rows = compared.json()["rows"]
        # every row of positive samples is hierarchical (a zero has no logarithm)
        assert {tuple(r["runs"]) for r in rows if r["metric"] == "wall_time"} == {(3, 3)}
        # the history that teaches the spread counts the first run's 3 runs as 3
        wall = [r for r in rows if r["metric"] == "wall_time"]
        assert all("learned from 3 earlier runs" in r["run_spread_source"] for r in wall)
        # a baseline of the last 2 stored runs is 6 runs: resampled (>= 5), labels distinct
        third = run(cli, job)
        widened = cli("compare", second["run_id"], third["run_id"], "--baseline-runs", "2")
        assert widened.status in (0, 2, 4), widened.err
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


def gated(*gates: dict) -> dict:
    """A job spec with gates and no declared run spread (learned, else the default)."""
    return {"name": "j", "gates": list(gates)}


class TestGatesAnswerAsCompare:
    def test_sample_level_fail_is_run_level_unknown(self, cli, make_run) -> None:
        """Two single runs 15% apart, tight samples, no history: on samples alone the
        +10% gate fails (CI about +14% .. +16%), but the comparison allows for the
        run-to-run spread a single-run baseline cannot show and calls the row unknown. The
        gate decides on the same run-level interval: unknown, and the exit is compare's."""
        median = {"metric": "time", "max_increase": "10%"}
        p95 = {"metric": "time", "stat": "p95", "max_increase": "10%"}
        spec = gated(median, p95)
        base = make_run({"BM_a": {"time": _samples(100)}}, spec=spec)
        cand = make_run({"BM_a": {"time": _samples(115, seed=1)}}, spec=spec)
        from perflab.stats import evaluate_gate

        alone = evaluate_gate(median, _samples(100), _samples(115, seed=1))
        assert alone.outcome == "fail"  # what the gate said before: a sample-level interval
        result = cli("compare", base, cand, "--json")
        doc = result.json()
        [row] = doc["rows"]
        assert row["verdict"] == "unknown" and row["runs"] == [1, 1]
        gates = {g["stat"]: g for g in doc["gates"]}
        assert gates["median"]["outcome"] == "unknown", gates["median"]["reason"]
        assert gates["p95"]["outcome"] == "unknown", gates["p95"]["reason"]
        assert "run-level: 1 and 1 runs, run-to-run spread 10.0%" in gates["median"]["reason"]
        # the median gate's interval is the comparison row's own
        assert gates["median"]["checks"][0]["ci"] == row["ratio_ci"]
        assert result.status == 0 and doc["regression"] is False

    def test_both_call_it_when_the_runs_are_known_to_agree(self, cli, make_run) -> None:
        """Declared exchangeable runs (--run-spread 0%): both the row and the gates call it."""
        median = {"metric": "time", "max_increase": "10%"}
        spec = gated(median)
        base = make_run({"BM_a": {"time": _samples(100)}}, spec=spec)
        cand = make_run({"BM_a": {"time": _samples(115, seed=1)}}, spec=spec)
        result = cli("compare", base, cand, "--run-spread", "0%", "--json")
        doc = result.json()
        assert doc["rows"][0]["verdict"] == "regressed"
        assert [g["outcome"] for g in doc["gates"]] == ["fail"]
        assert result.status == 2

    def test_run_with_gates_answers_as_compare(self, cli, write_job) -> None:
        """A real `perflab run` of a job with a baseline (compare.baseline) and a gate gives
        compare's gates and exit status."""
        job = write_job(
            JOB.format(runs='"2 x 3"', extra="")
            + "compare: {baseline: b}\n"
            + "gates: [{metric: wall_time, benchmark: noop, max_increase: '5%'}]\n"
        )
        base = run(cli, job)["run_id"]
        assert cli("baseline", "set", "b", base, "--reason", "test").status == 0
        second = cli("run", str(job), "--json")
        assert second.out, second.err
        doc = second.json()
        compared = cli("compare", "b", doc["run_id"], "--json")
        assert second.status == compared.status, second.err
        [gate] = doc["comparison"]["gates"]
        assert gate == compared.json()["gates"][0]
        assert "run-level: 2 and 2 runs" in gate["reason"]


def _samples(median: float, seed: int = 0) -> list[float]:
    from tests.compare.conftest import samples

    return samples(median, n=40, seed=seed)


class TestShown:
    def test_run_says_how_its_samples_split_into_runs(self, cli, write_job) -> None:
        """The table and the JSON say the run is 3 runs of 2 processes."""
        job = job_file(write_job, runs='"3 x 2"')
        shown = cli("run", str(job))
        assert shown.status == 0, shown.err
        assert "3 runs of 2 processes each: repetitions 1-2 are the first run" in shown.out
        doc = cli("results", "list", "--json").json()["runs"][0]
        full = cli("results", "show", doc["run_id"], "--json").json()
        assert full["run_parts"] == {"runs": 3, "processes": 2}
        plain = cli("run", str(write_job(JOB.format(runs=1, extra=""), "one.yaml")), "--json")
        assert plain.json()["run_parts"] is None
