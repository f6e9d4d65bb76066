"""`perflab compare`: verdicts, gates, evidence classes, bad input, output formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from perflab.store import open_store
from tests.compare.conftest import samples


def bench(median: float, seed: int = 0, **kw) -> dict:
    return {"time": samples(median, seed=seed, **kw)}


class TestVerdicts:
    def test_regression_exits_2(self, cli, make_run) -> None:
        """A clear 10% slowdown is regressed, with its CI, and the exit status is 2."""
        base = make_run({"BM_a": bench(100), "BM_b": bench(100, 1)})
        cand = make_run({"BM_a": bench(110, 2), "BM_b": bench(100, 3)})
        result = cli("compare", base, cand, "--json")
        assert result.status == 2
        doc = result.json()
        rows = {r["benchmark"]: r for r in doc["rows"]}
        assert rows["BM_a"]["verdict"] == "regressed"
        assert 1.08 < rows["BM_a"]["ratio"] < 1.12
        low, high = rows["BM_a"]["ratio_ci"]
        assert low > 1.01 and high < 1.15
        assert rows["BM_b"]["verdict"] in ("same", "unknown")
        assert doc["regression"] is True and doc["candidate"]["run_id"] == cand

    def test_improvement_exits_0(self, cli, make_run) -> None:
        """Faster is improved (lower-is-better), never a regression."""
        base = make_run({"BM_a": bench(100)})
        cand = make_run({"BM_a": bench(90, 1)})
        result = cli("compare", base, cand, "--json")
        assert result.status == 0
        assert result.json()["rows"][0]["verdict"] == "improved"

    def test_throughput_drop_is_a_regression(self, cli, make_run) -> None:
        """Direction-aware: a lower higher-is-better metric regressed."""
        units = {"bytes_per_second": ("B/s", "higher")}
        base = make_run({"BM": {"bytes_per_second": samples(1e9)}}, units=units)
        cand = make_run({"BM": {"bytes_per_second": samples(0.85e9, seed=1)}}, units=units)
        doc = cli("compare", base, cand, "--json").json()
        assert doc["rows"][0]["verdict"] == "regressed"

    def test_table_and_markdown(self, cli, make_run, tmp_path: Path) -> None:
        """The table shows the verdicts; --format md writes a PR comment."""
        base = make_run({"BM_a": bench(100)})
        cand = make_run({"BM_a": bench(120, 1)})
        table = cli("compare", base, cand)
        assert "regressed" in table.out and "REGRESSION" in table.out
        out = tmp_path / "comment.md"
        cli("compare", base, cand, "--format", "md", "-o", str(out))
        text = out.read_text()
        assert text.startswith("### perflab compare: 1 regressed")
        assert "| `BM_a` | time |" in text


GATED = {
    "name": "j",
    # declared exchangeable: the gates' own intervals, not the run-to-run spread of a
    # single-run baseline (tests/compare/test_runs_key.py tests that)
    "compare": {"run_spread": 0},
    "gates": [
        {"metric": "time", "stat": "p95", "max_increase": "10%"},
        {"metric": "time", "stat": "median", "max": "150ns"},
    ],
}


class TestGates:
    def test_gate_fails_on_big_p95_increase(self, cli, make_run) -> None:
        """A p95 gate is decided on its confidence interval, not a single number."""
        base = make_run({"BM_a": bench(100, n=40)}, spec=GATED)
        cand = make_run({"BM_a": bench(130, 1, n=40)}, spec=GATED)
        result = cli("compare", base, cand, "--json")
        assert result.status == 2
        gates = result.json()["gates"]
        assert {g["stat"]: g["outcome"] for g in gates} == {"p95": "fail", "median": "pass"}

    def test_gates_pass_when_within(self, cli, make_run) -> None:
        """Same speed: the gates do not fail."""
        base = make_run({"BM_a": bench(100, n=40)}, spec=GATED)
        cand = make_run({"BM_a": bench(100, 1, n=40)}, spec=GATED)
        result = cli("compare", base, cand, "--json")
        assert all(g["outcome"] != "fail" for g in result.json()["gates"])


class TestEvidenceClasses:
    def test_different_fingerprints_are_refused(self, cli, make_run) -> None:
        """Another tuning state is another evidence class: refused, exit 3, difference named."""
        base = make_run({"BM_a": bench(100)}, fingerprint="a" * 64)
        cand = make_run({"BM_a": bench(100, 1)}, fingerprint="b" * 64)
        result = cli("compare", base, cand)
        assert result.status == 3
        assert "different evidence classes" in result.err and "tuning fingerprint" in result.err

    def test_force_compares_and_names_the_difference(self, cli, make_run) -> None:
        """--force compares anyway and reports exactly what differs."""
        env = {
            "hostname": "h",
            "kernel": "6.9",
            "arch": "x86_64",
            "cpu": {"model": "EPYC", "count": 8},
        }
        base = make_run({"BM_a": bench(100)})
        cand = make_run({"BM_a": bench(100, 1)}, environment=env)
        doc = cli("compare", base, cand, "--force", "--json").json()
        assert doc["forced_differences"] == ["kernel: 6.1 vs 6.9"]

    def test_noisy_host_is_flagged(self, cli, make_run) -> None:
        """A run whose host failed the noise probe carries that flag into the comparison."""
        flag = {"code": "infra_contention_suspected", "message": "cpu 1: CV 9% above 5%"}
        base = make_run({"BM_a": bench(100)})
        cand = make_run({"BM_a": bench(100, 1)}, flags=[flag])
        row = cli("compare", base, cand, "--json").json()["rows"][0]
        assert "noisy_host" in [f["code"] for f in row["cand_flags"]]


class TestBadInput:
    def test_run_with_itself(self, cli, make_run) -> None:
        """Comparing a run with itself: exit 3."""
        run = make_run({"BM_a": bench(100)})
        result = cli("compare", run, run)
        assert result.status == 3 and "with itself" in result.err

    def test_different_jobs(self, cli, make_run) -> None:
        """Runs of different jobs: exit 3 naming both."""
        base = make_run({"BM_a": bench(100)}, job="x")
        cand = make_run({"BM_a": bench(100)}, job="y")
        result = cli("compare", base, cand)
        assert result.status == 3 and '"x" vs "y"' in result.err

    def test_missing_metric_is_not_comparable(self, cli, make_run) -> None:
        """A metric on one side only is an explicit not-comparable row, never "same"."""
        base = make_run({"BM_a": {"time": samples(100), "cpu_time": samples(90)}})
        cand = make_run({"BM_a": {"time": samples(100, seed=1)}})
        rows = {r["metric"]: r for r in cli("compare", base, cand, "--json").json()["rows"]}
        assert rows["cpu_time"]["verdict"] == "not_comparable"
        assert "missing" in rows["cpu_time"]["reason"]

    def test_negative_times_are_not_comparable(self, cli, tmp_path: Path) -> None:
        """Negative times in a file: a not-comparable row with the reason, not a crash."""
        good = {
            "benchmarks": [
                {
                    "name": "a",
                    "metrics": {
                        "time": {
                            "unit": "ns",
                            "direction": "lower",
                            "samples": [1.0, 1.1, 0.9, 1.0, 1.05],
                        }
                    },
                }
            ]
        }
        bad = json.loads(json.dumps(good))
        bad["benchmarks"][0]["metrics"]["time"]["samples"] = [1.0, -1.0, 1.0, 1.0, 1.0]
        (tmp_path / "good.json").write_text(json.dumps(good))
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        result = cli("compare", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--json")
        row = result.json()["rows"][0]
        assert row["verdict"] == "not_comparable" and "negative" in row["reason"]

    def test_unknown_baseline_name(self, cli, make_run) -> None:
        """A baseline name that does not exist: exit 3."""
        cand = make_run({"BM_a": bench(100)})
        result = cli("compare", "nightly", cand)
        assert result.status == 3 and 'no baseline "nightly"' in result.err

    def test_units_that_do_not_convert(self, cli, make_run) -> None:
        """The same metric in unrelated units is not comparable."""
        base = make_run({"BM_a": bench(100)})
        cand = make_run({"BM_a": bench(100)}, units={"time": ("B", "lower")})
        row = cli("compare", base, cand, "--json").json()["rows"][0]
        assert row["verdict"] == "not_comparable" and "units differ" in row["reason"]


def timed(median: float, seed: int = 0) -> dict:
    """A time-format run's benchmark: wall_time and max_rss, no "time"."""
    return {
        "sort": {"wall_time": samples(median, seed=seed), "max_rss": samples(5e6, seed=seed + 50)}
    }


class TestNamesThatMatchNothing:
    def test_gate_on_a_metric_the_runs_do_not_have(self, cli, make_run) -> None:
        """The issue's case: a `metric: time` gate on wall_time runs used to check nothing and
        exit 0 with "gates": []; it is exit 3 with the names there are."""
        spec = {"name": "j", "gates": [{"metric": "time", "stat": "p95", "max_increase": "10%"}]}
        base, cand = make_run(timed(100), spec=spec), make_run(timed(100, 1), spec=spec)
        result = cli("compare", base, cand, "--json")
        assert result.status == 3 and result.out == ""
        assert (
            f"gates[0].metric: expected a metric of run {cand} (wall_time, max_rss), got "
            '"time" (did you mean "wall_time"?)'
        ) in result.err

    def test_gate_benchmark_glob_that_selects_nothing(self, cli, make_run) -> None:
        """A gate limited to benchmarks that are not there checks nothing: exit 3."""
        spec = {
            "name": "j",
            "gates": [{"benchmark": "BM_*", "metric": "wall_time", "max_increase": "10%"}],
        }
        result = cli("compare", make_run(timed(100), spec=spec), make_run(timed(100, 1), spec=spec))
        assert result.status == 3
        assert "gates[0].benchmark: expected a benchmark of run" in result.err
        assert 'got "BM_*"' in result.err

    def test_matching_gate_is_evaluated(self, cli, make_run) -> None:
        """The same gate on wall_time is decided."""
        spec = {"name": "j", "gates": [{"metric": "wall_time", "max_increase": "10%"}]}
        result = cli(
            "compare", make_run(timed(100), spec=spec), make_run(timed(100, 1), spec=spec), "--json"
        )
        assert result.status == 0
        assert [g["metric"] for g in result.json()["gates"]] == ["wall_time"]

    def test_metric_option_that_matches_nothing(self, cli, make_run) -> None:
        """Each --metric must match something; one that does not is not silently dropped."""
        base, cand = make_run(timed(100)), make_run(timed(100, 1))
        result = cli("compare", base, cand, "--metric", "max_rss", "--metric", "time")
        assert result.status == 3
        assert (
            "--metric: expected a metric of the compared runs (wall_time, max_rss), got "
            '"time" (did you mean "wall_time"?)'
        ) in result.err

    def test_benchmark_option_that_matches_nothing(self, cli, make_run) -> None:
        """The same for --benchmark."""
        result = cli(
            "compare",
            make_run(timed(100)),
            make_run(timed(100, 1)),
            "--benchmark",
            "sort",
            "--benchmark",
            "srot",
        )
        assert result.status == 3
        assert (
            '--benchmark: expected a benchmark of the compared runs (sort), got "srot" '
            '(did you mean "sort"?)' in result.err
        )

    def test_waiver_of_the_job_that_matches_nothing(self, cli, make_run) -> None:
        """A waiver of this job on a metric its runs do not have (any more) is named, with how
        to revoke it."""
        store = open_store()
        try:
            store.baselines.add_waiver(
                job="j",
                benchmark="*",
                metric="time",
                platform=None,
                magnitude=0.05,
                reason="r",
                created_by="t",
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        finally:
            store.close()
        result = cli("compare", make_run(timed(100)), make_run(timed(100, 1)))
        assert result.status == 3
        assert (
            "waiver 1 --metric: expected a metric of the compared runs (wall_time, "
            'max_rss), got "time" (did you mean "wall_time"?)' in result.err
        )
        assert "perflab baseline revoke 1" in result.err

    def test_waiver_of_no_job_is_not_checked(self, cli, make_run) -> None:
        """A waiver for every job cannot be expected to match every job's names."""
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
                "r",
                "--expires",
                "30d",
            ).status
            == 0
        )
        assert cli("compare", make_run(timed(100)), make_run(timed(100, 1))).status == 0
