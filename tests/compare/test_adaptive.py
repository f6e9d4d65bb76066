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
        assert cli("baseline", "set", "b", base["run_id"]).status == 0
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

    def test_without_a_baseline_nothing_is_added(self, cli, write_job) -> None:
        """No baseline of that name for this job: the run keeps its fixed count, and says why."""
        job = write_job(JOB.format(runs=3, max_runs=10))
        doc = cli("run", str(job), "--baseline", "missing", "--json").json()
        assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 3
        [flag] = [f for f in doc["flags"] if f["code"] == "adaptive"]
        assert "no baseline" in flag["evidence"]["decisions"][0]["reason"]
