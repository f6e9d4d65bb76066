"""Adaptive repetitions: more runs while the verdict against the baseline is unknown."""

from __future__ import annotations

JOB = """\
name: adapt
benchmarks:
  - name: noop
    command: [python3, -c, "pass"]
    format: time
repetitions: {{warmup: 0, runs: {runs}, max_runs: {max_runs}}}
"""


class TestAdaptive:
    def test_runs_are_added_up_to_the_budget(self, cli, write_job) -> None:
        """Against a baseline of the same command the verdict starts unknown: runs are added,
        never beyond max_runs, and each decision is recorded."""
        base = cli("run", str(write_job(JOB.format(runs=6, max_runs=6))), "--json").json()
        assert cli("baseline", "set", "b", base["run_id"], "--reason", "test").status == 0
        job = write_job(JOB.format(runs=4, max_runs=12), "adapt.yaml")
        doc = cli("run", str(job), "--baseline", "b", "--json").json()
        walls = doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]
        assert 4 <= len(walls) <= 12
        [flag] = [f for f in doc["flags"] if f["code"] == "adaptive"]
        decisions = flag["evidence"]["decisions"]
        assert decisions and all("reason" in d for d in decisions)
        assert len(walls) == 4 + sum(d["add"] for d in decisions)
        runs = [r for r in doc["repetitions"] if r["kind"] == "run"]
        assert [r["index"] for r in runs] == list(range(1, len(walls) + 1))

    def test_unknown_baseline_is_refused_before_anything_runs(self, cli, write_job) -> None:
        """`--baseline nosuch` used to run, add nothing and exit 0 (the reason only in --json):
        exit 3 with one line, and nothing is run."""
        result = cli(
            "run", str(write_job(JOB.format(runs=3, max_runs=10))), "--baseline", "nosuch", "--json"
        )
        assert result.status == 3 and result.out == ""
        assert result.err.splitlines()[0] == (
            'perflab: error: --baseline: expected a baseline of job adapt (none), got "nosuch"'
        )
        assert cli("results", "list", "--json").json()["runs"] == []

    def test_a_misspelt_baseline_gets_a_suggestion(self, cli, make_run, write_job) -> None:
        """The job's baselines are listed, and the closest is suggested."""
        run = make_run({"noop": {"wall_time": [1.0] * 5}}, job="adapt")
        assert cli("baseline", "set", "nightly", run).status == 0
        result = cli(
            "run", str(write_job(JOB.format(runs=3, max_runs=10))), "--baseline", "nigthly"
        )
        assert result.status == 3
        assert '(nightly), got "nigthly" (did you mean "nightly"?)' in result.err

    def test_baseline_of_another_platform(self, cli, make_run, write_job) -> None:
        """A baseline that exists, but not for this run's platform: the fixed runs are kept,
        and the run exits 3 saying why nothing could be added."""
        run = make_run({"noop": {"wall_time": [1.0] * 5}}, job="adapt", platform="sparc-solaris")
        assert cli("baseline", "set", "nightly", run).status == 0
        result = cli(
            "run",
            str(write_job(JOB.format(runs=3, max_runs=10))),
            "--baseline",
            "nightly",
            "--json",
        )
        assert result.status == 3
        assert '--baseline: no baseline "nightly" for job=adapt, platform=' in result.err
        doc = result.json()
        assert doc["status"] == "completed"
        assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 3

    def test_baseline_without_an_adaptive_budget(self, cli, write_job) -> None:
        """--baseline on a job without max_runs or max_time would do nothing: exit 3."""
        job = write_job(JOB.format(runs=3, max_runs=10).replace(", max_runs: 10", ""))
        result = cli("run", str(job), "--baseline", "nightly")
        assert result.status == 3
        assert "--baseline: expected a job with repetitions.max_runs or max_time" in result.err

    def test_job_baseline_not_made_yet(self, cli, write_job) -> None:
        """`compare.baseline` in the job names a baseline its first runs are made to become:
        a run before it exists keeps its fixed count and says so."""
        job = write_job(JOB.format(runs=3, max_runs=10) + "compare: {baseline: nightly}\n")
        result = cli("run", str(job), "--json")
        assert result.status == 0, result.err
        [flag] = [f for f in result.json()["flags"] if f["code"] == "adaptive"]
        assert 'no baseline "nightly"' in flag["message"]
