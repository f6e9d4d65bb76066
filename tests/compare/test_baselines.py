"""Baselines with history, waivers with scope and expiry, history with change points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from perflab.store import open_store
from tests.compare.conftest import samples


def bench(median: float, seed: int = 0) -> dict:
    return {"BM_a": {"time": samples(median, seed=seed)}, "BM_b": {"time": samples(50, seed=seed)}}


class TestBaselines:
    def test_set_compare_by_name_and_history(self, cli, make_run) -> None:
        """A baseline name stands for its run; every change is kept with who and why."""
        first = make_run(bench(100))
        assert cli("baseline", "set", "nightly", first, "--by", "ada").status == 0
        cand = make_run(bench(100, 1))
        result = cli("compare", "nightly", cand, "--json")
        assert result.status == 0
        assert result.json()["baseline"]["run_id"] == first
        better = make_run(bench(90, 2))
        assert cli("baseline", "set", "nightly", better, "--by", "bob").status == 0
        history = cli("baseline", "history", "nightly", "--json").json()["history"]
        assert [(h["run_id"], h["set_by"]) for h in history] == [(first, "ada"), (better, "bob")]
        shown = cli("baseline", "show", "nightly", "--json").json()["baselines"]
        assert [b["run_id"] for b in shown] == [better]

    def test_a_regressed_run_needs_a_reason(self, cli, make_run) -> None:
        """Replacing a baseline with a run that regressed against it needs --reason."""
        first = make_run(bench(100))
        cli("baseline", "set", "nightly", first)
        slower = make_run(bench(120, 1))
        refused = cli("baseline", "set", "nightly", slower)
        assert refused.status == 3
        assert "BM_a time regressed" in refused.err and "--reason" in refused.err
        accepted = cli(
            "baseline",
            "set",
            "nightly",
            slower,
            "--reason",
            "new algorithm, accepted slowdown",
            "--json",
        )
        assert accepted.status == 0
        assert accepted.json()["reason"].startswith("new algorithm")
        history = cli("baseline", "history", "nightly", "--json").json()["history"]
        assert history[-1]["reason"] == "new algorithm, accepted slowdown"

    def test_failed_run_needs_a_reason(self, cli, make_run) -> None:
        """A failed run never silently becomes a baseline."""
        run = make_run(bench(100), status="failed")
        result = cli("baseline", "set", "nightly", run)
        assert result.status == 3 and "is failed" in result.err


class TestWaivers:
    def test_waived_regression(self, cli, make_run) -> None:
        """A regression within a waiver's magnitude is reported as waived; exit 0."""
        base, cand = make_run(bench(100)), make_run(bench(104, 1))
        assert cli("compare", base, cand).status == 2
        assert (
            cli(
                "baseline",
                "waive",
                "--benchmark",
                "BM_*",
                "--metric",
                "time",
                "--magnitude",
                "5%",
                "--reason",
                "known cost of bounds checks",
                "--expires",
                "30d",
            ).status
            == 0
        )
        result = cli("compare", base, cand, "--json")
        assert result.status == 0
        row = next(r for r in result.json()["rows"] if r["benchmark"] == "BM_a")
        assert row["verdict"] == "waived" and row["waiver"]["reason"].startswith("known")

    def test_much_larger_change_is_still_reported(self, cli, make_run) -> None:
        """A change far beyond the waived magnitude is reported as a regression."""
        cli(
            "baseline",
            "waive",
            "--benchmark",
            "BM_a",
            "--metric",
            "time",
            "--magnitude",
            "2%",
            "--reason",
            "small cost",
            "--expires",
            "30d",
        )
        result = cli("compare", make_run(bench(100)), make_run(bench(125, 1)), "--json")
        assert result.status == 2
        row = next(r for r in result.json()["rows"] if r["benchmark"] == "BM_a")
        assert row["verdict"] == "regressed" and row["waiver_exceeded"]["magnitude"] == 0.02

    def test_expired_waiver_stops_applying(self, cli, make_run) -> None:
        """A waiver past its expiry date no longer applies."""
        store = open_store()
        try:
            store.baselines.add_waiver(
                job=None,
                benchmark="BM_a",
                metric="time",
                platform=None,
                magnitude=0.1,
                reason="old",
                expires_at=datetime.now(UTC) - timedelta(days=1),
                created_by="t",
            )
        finally:
            store.close()
        result = cli("compare", make_run(bench(100)), make_run(bench(104, 1)), "--json")
        assert result.status == 2
        assert cli("baseline", "waivers", "--json").json()["waivers"] == []
        assert len(cli("baseline", "waivers", "--all", "--json").json()["waivers"]) == 1

    def test_waiver_of_a_job_must_match_its_runs(self, cli, make_run) -> None:
        """A waiver scoped to a job is checked against the job's stored runs when it is made:
        a metric or benchmark they do not have is exit 3, and nothing is stored."""
        make_run({"sort": {"wall_time": samples(100), "max_rss": samples(5e6)}})
        waive = (
            "baseline",
            "waive",
            "--job",
            "j",
            "--magnitude",
            "5%",
            "--reason",
            "r",
            "--expires",
            "30d",
        )
        result = cli(*waive, "--benchmark", "*", "--metric", "time")
        assert result.status == 3
        assert (
            '--metric: expected a metric of job j\'s runs (wall_time, max_rss), got "time" '
            '(did you mean "wall_time"?)'
        ) in result.err
        result = cli(*waive, "--benchmark", "BM_*", "--metric", "wall_time")
        assert result.status == 3 and 'got "BM_*"' in result.err
        assert cli("baseline", "waivers", "--json").json()["waivers"] == []
        assert cli(*waive, "--benchmark", "so*", "--metric", "wall_*").status == 0

    def test_waiver_of_a_job_without_runs_yet(self, cli) -> None:
        """With no run of the job stored there is nothing to check against: accepted."""
        assert (
            cli(
                "baseline",
                "waive",
                "--job",
                "new",
                "--benchmark",
                "*",
                "--metric",
                "time",
                "--magnitude",
                "5%",
                "--reason",
                "r",
                "--expires",
                "30d",
            ).status
            == 0
        )

    def test_bad_waiver_input(self, cli) -> None:
        """A magnitude or expiry that makes no sense: exit 3."""
        bad = cli(
            "baseline",
            "waive",
            "--benchmark",
            "x",
            "--metric",
            "time",
            "--magnitude",
            "lots",
            "--reason",
            "r",
            "--expires",
            "30d",
        )
        assert bad.status == 3 and "magnitude" in bad.err
        past = cli(
            "baseline",
            "waive",
            "--benchmark",
            "x",
            "--metric",
            "time",
            "--magnitude",
            "5%",
            "--reason",
            "r",
            "--expires",
            "2020-01-01",
        )
        assert past.status == 3 and "future" in past.err


class TestHistory:
    def test_change_point_found(self, cli, make_run) -> None:
        """A lasting 8% step in a series of runs is found at the run where it started."""
        for i in range(12):
            make_run({"BM_a": {"time": samples(100 if i < 6 else 108, seed=i)}})
        result = cli("history", "j", "BM_a", "--json")
        assert result.status == 0, result.err
        doc = result.json()
        assert len(doc["series"]) == 12
        assert [cp["index"] for cp in doc["change_points"]] == [6]
        assert 0.06 < doc["change_points"][0]["change"] < 0.10

    def test_no_change_no_point(self, cli, make_run) -> None:
        """A flat series has no change point."""
        for i in range(10):
            make_run({"BM_a": {"time": samples(100, seed=i)}})
        assert cli("history", "j", "BM_a", "--json").json()["change_points"] == []

    def test_unknown_series(self, cli) -> None:
        """A job or benchmark with no runs: exit 3."""
        result = cli("history", "nope", "BM_a")
        assert result.status == 3 and "no completed run" in result.err

    def test_without_metric_the_first_metric_is_used(self, cli, make_run) -> None:
        """A time job has no `time`: without --metric the benchmark's first metric is shown
        (it used to look for `time` and find nothing)."""
        for i in range(3):
            make_run({"sort": {"wall_time": samples(100, seed=i), "max_rss": samples(5e6)}})
        result = cli("history", "j", "sort", "--json")
        assert result.status == 0, result.err
        doc = result.json()
        assert doc["metric"] == "wall_time" and len(doc["series"]) == 3
        assert "j / sort / wall_time" in cli("history", "j", "sort").out

    def test_metric_that_is_not_there(self, cli, make_run) -> None:
        """--metric time on wall_time runs: exit 3 with the metrics there are."""
        make_run({"sort": {"wall_time": samples(100), "max_rss": samples(5e6)}})
        result = cli("history", "j", "sort", "--metric", "time")
        assert result.status == 3
        assert (
            '--metric: expected a metric of sort in job j (wall_time, max_rss), got "time" '
            '(did you mean "wall_time"?)'
        ) in result.err

    def test_benchmark_that_is_not_there(self, cli, make_run) -> None:
        """A misspelt benchmark: exit 3 with the job's benchmarks and the closest one."""
        make_run({"sort": {"wall_time": samples(100)}})
        result = cli("history", "j", "srot")
        assert result.status == 3
        assert (
            'BENCH: expected a benchmark of job j (sort), got "srot" (did you mean "sort"?)'
            in result.err
        )
