"""`perflab compare` and `perflab run` with issue 11's comparison side: flags that decide
(exit 4), exact counts, runs as a unit of variance, names that are never cut."""

from __future__ import annotations

import math
import re

from perflab.store import open_store
from tests.compare.conftest import samples

WIDENED = {"name": "j"}  # no declared run spread: learned from history, else the default
COUNT = {"allocs_per_op": ("count", "lower")}


def contaminate(
    run_id: str, message: str = "other processes used 48% of CPU 1 during 15/15 repetitions"
) -> None:
    """Write the run-level flag the harness's contamination evidence produces."""
    store = open_store()
    try:
        flags = store.runs.get(run_id).fields.get("flags") or []
        store.runs.update_run(run_id, flags=[*flags, {"code": "contaminated", "message": message}])
    finally:
        store.close()


class TestFlagsDecide:
    def test_contaminated_candidate_exits_4_not_2(self, cli, make_run) -> None:
        """A 2x slowdown on a contaminated run: unknown with the reason and the raw ratio,
        exit 4 ("could not measure"), never 2."""
        base = make_run({"BM_a": {"time": samples(100)}})
        cand = make_run({"BM_a": {"time": samples(200, seed=1)}})
        assert cli("compare", base, cand).status == 2  # before the flag: a regression
        contaminate(cand)
        result = cli("compare", base, cand, "--json")
        assert result.status == 4
        doc = result.json()
        [row] = doc["rows"]
        assert row["verdict"] == "unknown" and row["unmeasured"] == ["contaminated"]
        assert "48% of CPU 1" in row["reason"] and "raw ratio +10" in row["reason"]
        assert doc["exit_status"] == 4 and doc["regression"] is False
        table = cli("compare", base, cand)
        assert table.status == 4 and "COULD NOT MEASURE" in table.out

    def test_a_gate_over_a_contaminated_row_neither_passes_nor_fails(self, cli, make_run) -> None:
        spec = {
            "name": "j",
            "compare": {"run_spread": 0},
            "gates": [{"metric": "time", "max_increase": "10%"}],
        }
        base = make_run({"BM_a": {"time": samples(100, n=40)}}, spec=spec)
        cand = make_run({"BM_a": {"time": samples(150, n=40, seed=1)}}, spec=spec)
        contaminate(base)
        result = cli("compare", base, cand, "--json")
        assert result.status == 4
        [gate] = result.json()["gates"]
        assert gate["outcome"] == "unknown" and gate["unmeasured"] is True
        assert "could not measure" in gate["reason"]


class TestExactCounts:
    def test_zero_to_one_allocation_exits_2(self, cli, make_run) -> None:
        """0 -> 1 allocs/op was not_comparable with exit 0; it is a regression, and
        identical counts raise no 'all samples identical' warning."""
        base = make_run({"BM_a": {"allocs_per_op": [0.0] * 10}}, units=COUNT)
        cand = make_run({"BM_a": {"allocs_per_op": [1.0] * 10}}, units=COUNT)
        result = cli("compare", base, cand, "--json")
        assert result.status == 2
        [row] = result.json()["rows"]
        assert row["verdict"] == "regressed" and row["exact"] is True
        assert row["base_flags"] == [] and row["cand_flags"] == []
        same = cli(
            "compare", base, make_run({"BM_a": {"allocs_per_op": [0.0] * 10}}, units=COUNT), "--all"
        )
        assert same.status == 0 and "tail_too_tight" not in same.out
        assert "0 → 0 (exact)" in same.out and "identical" not in same.out


class TestRunsAsUnits:
    def test_single_run_baseline_without_history_is_widened(self, cli, make_run) -> None:
        """Two single runs 20% apart, no history: the run-to-run spread is unknown, the
        decision is widened (unknown, exit 0) and the row says so."""
        base = make_run({"BM_a": {"time": samples(100)}}, spec=WIDENED)
        cand = make_run({"BM_a": {"time": samples(120, seed=1)}}, spec=WIDENED)
        result = cli("compare", base, cand, "--json")
        assert result.status == 0
        [row] = result.json()["rows"]
        assert row["verdict"] == "unknown" and row["runs"] == [1, 1]
        assert "assumed 10%" in row["run_spread_source"]
        declared = cli("compare", base, cand, "--run-spread", "0%", "--json")
        assert declared.status == 2  # declared exchangeable: the sample-level verdict

    def test_spread_is_learned_from_the_jobs_history(self, cli, make_run) -> None:
        """Earlier quiet runs of the job teach a small spread: a 20% change is decided."""
        for seed in range(5):
            make_run({"BM_a": {"time": samples(100, seed=10 + seed)}}, spec=WIDENED)
        base = make_run({"BM_a": {"time": samples(100)}}, spec=WIDENED)
        cand = make_run({"BM_a": {"time": samples(120, seed=1)}}, spec=WIDENED)
        result = cli("compare", base, cand, "--json")
        [row] = result.json()["rows"]
        assert "learned from 6 earlier runs" in row["run_spread_source"]
        assert row["run_spread"] < 0.01
        assert row["verdict"] == "regressed" and result.status == 2

    def test_drifting_history_keeps_an_a_a_pair_unknown(self, cli, make_run) -> None:
        """A host whose runs drift by +-25% (as this VM's): an A/A pair 30% apart is not a
        regression."""
        for i, level in enumerate((100, 125, 80, 110, 75, 120)):
            make_run({"BM_a": {"time": samples(level, seed=20 + i)}}, spec=WIDENED)
        base = make_run({"BM_a": {"time": samples(90)}}, spec=WIDENED)
        cand = make_run({"BM_a": {"time": samples(117, seed=1)}}, spec=WIDENED)
        result = cli("compare", base, cand, "--json")
        [row] = result.json()["rows"]
        assert row["run_spread"] > 0.1 and row["verdict"] == "unknown"
        assert result.status == 0

    def test_baseline_of_several_runs(self, cli, make_run) -> None:
        """--baseline-runs 3: the baseline run and the two before it, one side."""
        older = [
            make_run({"BM_a": {"time": samples(100, seed=s)}}, spec=WIDENED) for s in (30, 31, 32)
        ]
        cand = make_run({"BM_a": {"time": samples(101, seed=1)}}, spec=WIDENED)
        doc = cli("compare", older[-1], cand, "--baseline-runs", "3", "--json").json()
        assert doc["baseline"]["runs"] == [older[2], older[1], older[0]]
        assert doc["rows"][0]["runs"] == [3, 1]
        assert doc["rows"][0]["base"]["n"] == 60

    def test_one_far_run_in_the_history_is_named(self, cli, make_run) -> None:
        """Eight quiet runs, then one twice as slow (a code change that stayed, or a burst):
        the learned spread keeps it, and says which run makes most of it and what the
        spread is without it; a history without such a run says nothing of the kind."""

        def run(level: float, seed: int) -> str:
            benches = {f"BM_{b}": {"time": samples(level, seed=seed + b)} for b in range(3)}
            return make_run(benches, spec=WIDENED)

        quiet = [run(100 * (1 + 0.01 * (i % 3)), 40 + 10 * i) for i in range(8)]
        plain = cli("compare", quiet[-2], quiet[-1], "--json").json()
        assert not any("makes most of it" in r["run_spread_source"] for r in plain["rows"])
        assert plain["spread_outliers"] == []

        slow = run(200, 200)
        base, cand = run(100, 300), run(200, 400)
        doc = cli("compare", base, cand, "--json").json()
        for row in doc["rows"]:
            source = row["run_spread_source"]
            found = re.search(rf"one of them, run {slow} \(\+(\d+)% from the others\)", source)
            assert found and 90 <= int(found.group(1)) <= 110, source
            assert "its own" not in source  # as wide as the median of the job's benchmarks
            assert row["run_spread"] > 0.15  # kept: a burst looks the same
            without = float(source.rsplit(": ", 1)[1].split("%")[0]) / 100
            assert without < 0.05
        [outlier] = doc["spread_outliers"]  # the same, for a script
        assert outlier["run"] == slow and (outlier["rows"], outlier["of_rows"]) == (3, 3)
        assert 0.9 <= outlier["shift"][0] <= outlier["shift"][1] <= 1.1
        assert 0 < outlier["spread_without"][0] <= outlier["spread_without"][1] < 0.05
        text = cli("compare", base, cand).out
        assert f"one earlier run, {slow} (+" in text
        assert "makes most of the learned spread of 3 of 3 rows" in text


class TestOutput:
    def test_long_names_are_never_cut(self, cli, make_run) -> None:
        """Not on a terminal the table used to be cut at 120 columns, so sub-benchmarks
        sharing a prefix all printed as `BenchmarkRepeat...`."""
        names = [
            f"BenchmarkRepeat/size={n}/parallelism=8/with-a-long-suffix-{n}" for n in (1, 10, 100)
        ]
        base = make_run({n: {"time": samples(100, seed=i)} for i, n in enumerate(names)})
        cand = make_run({n: {"time": samples(100, seed=9 + i)} for i, n in enumerate(names)})
        out = cli("compare", base, cand, "--all").out
        for name in names:
            assert name in out
        assert "…" not in out


REAL = """\
name: real
benchmarks:
  - name: loop
    command: [{python}, -c, "sum(range(300000))"]
    format: time
repetitions: {{warmup: 0, runs: 5, max_runs: 9}}
{extra}"""


def real_job(write_job, extra: str = "", name: str = "real.yaml"):
    import json
    import sys

    return write_job(REAL.format(python=json.dumps(sys.executable), extra=extra), name)


class TestRealRuns:
    def test_run_with_a_baseline_answers_as_compare(self, cli, write_job) -> None:
        """Real runs: the baseline run is contaminated (the flag written through the store,
        as the harness's evidence would): `run --baseline` and `compare` both exit 4, with
        the same rows."""
        job = real_job(write_job)
        first = cli("run", str(job), "--json")
        assert first.status == 0, first.err
        base = first.json()["run_id"]
        # --reason: on a busy machine the harness may already have flagged the run
        assert cli("baseline", "set", "b", base, "--reason", "test").status == 0
        contaminate(base)
        second = cli("run", str(job), "--baseline", "b", "--json")
        assert second.status == 4, second.err
        doc = second.json()
        measured = [r for r in doc["comparison"]["rows"] if r["verdict"] != "not_comparable"]
        assert measured and all(r["unmeasured"] == ["contaminated"] for r in measured)
        compared = cli("compare", "b", doc["run_id"], "--json")
        assert compared.status == 4
        assert [r["verdict"] for r in compared.json()["rows"]] == [
            r["verdict"] for r in doc["comparison"]["rows"]
        ]

    def test_adaptive_runs_stop_on_run_level_drift(self, cli, write_job) -> None:
        """With a run-to-run spread of 50% (declared), no number of repetitions of this run
        can decide against a single-run baseline: none are added, and the run says to
        interleave or repeat the baseline."""
        job = real_job(write_job, "compare: {run_spread: 50%}\n")
        base = cli("run", str(job), "--json").json()["run_id"]
        assert cli("baseline", "set", "b", base, "--reason", "test").status == 0
        doc = cli("run", str(job), "--baseline", "b", "--json").json()
        [flag] = [f for f in doc["flags"] if f["code"] == "adaptive"]
        assert "run-level drift: interleave (ab:) or repeat the baseline" in flag["message"]
        decisions = flag["evidence"]["decisions"]
        wanting = [w for d in decisions for w in d["wanting"]]
        assert not [w for w in wanting if w.startswith("loop wall_time")], wanting
        if wanting:  # another metric may ask for runs on a busy machine: it says why
            assert "added" in flag["message"] and "0 added" not in flag["message"]
        else:
            assert "0 added" in flag["message"]
            assert len(doc["benchmarks"][0]["metrics"]["wall_time"]["samples"]) == 5


class TestBaselineSet:
    def test_a_contaminated_run_needs_a_reason(self, cli, make_run) -> None:
        """A run measured next to other work becomes a baseline only with --reason."""
        first = make_run({"BM_a": {"time": samples(100)}})
        assert cli("baseline", "set", "nightly", first).status == 0
        dirty = make_run({"BM_a": {"time": samples(100, seed=1)}})
        contaminate(dirty)
        refused = cli("baseline", "set", "nightly", dirty)
        assert refused.status == 3 and "was contaminated (other processes used 48%" in refused.err
        assert cli("baseline", "set", "nightly", dirty, "--reason", "known hog").status == 0


class TestHistoryMedians:
    def test_a_stored_runs_metrics_of_any_lengths(self) -> None:
        """The log medians read off one stored run's table, where metrics have different
        numbers of samples (none, NaN or zeros included), are each metric's own."""
        import numpy as np

        from perflab.compare.runs import _table_medians
        from perflab.stats.hierarchy import log_median

        metrics = [[1.0, 2.0, 4.0], [], [3.0, float("nan"), 5.0, 0.0], [7.0], [2.0, 8.0]]
        lengths = [len(m) for m in metrics]
        flat = np.asarray([v for m in metrics for v in m], dtype=float)
        got = _table_medians(lengths, flat)
        for values, median in zip(metrics, got, strict=True):
            expected = log_median(values)
            assert math.isnan(median) if expected is None else math.isclose(median, expected)
        same = [[1.0, 3.0], [2.0, 0.0], [5.0, 6.0]]  # one table; a zero in the second row
        got = _table_medians([2, 2, 2], np.asarray([v for m in same for v in m]))
        assert got[1] == math.log(2.0) and math.isclose(got[2], math.log(30.0) / 2)
        assert _table_medians([], np.empty(0)).size == 0

    def test_points_of_runs_with_the_same_keys_and_with_others(self) -> None:
        """A key that one run could not measure (NaN) keeps the other runs; a key that is
        not wanted is left out; runs whose keys differ are gathered key by key."""
        import numpy as np

        from perflab.compare.runs import _points

        a, b, c = ("A", "time"), ("B", "time"), ("C", "time")
        same = [
            ("r1", [a, b, c], np.array([1.0, 2.0, 3.0])),
            ("r2", [a, b, c], np.array([1.5, float("nan"), 3.5])),
            ("r3", [a, b, c], np.array([1.2, 2.2, 3.2])),
        ]
        found = _points(same, {a, b})
        assert set(found) == {a, b}
        assert found[a][0] == ("r1", "r2", "r3") and found[a][1].tolist() == [1.0, 1.5, 1.2]
        assert found[b][0] == ("r1", "r3") and found[b][1].tolist() == [2.0, 2.2]
        other = [*same[:2], ("r3", [c, a], np.array([3.3, 1.3]))]
        found = _points(other, {a, b, c})
        assert found[a][0] == ("r1", "r2", "r3") and found[a][1].tolist() == [1.0, 1.5, 1.3]
        assert found[b][0] == ("r1",) and found[c][1].tolist() == [3.0, 3.5, 3.3]
        assert _points([], {a}) == {}

    def test_a_key_only_the_far_run_measured_is_left_quietly(self) -> None:
        """The far run is named from the keys every run measured; a key whose history is
        only that run's parts (a ``runs: N`` run) has no "others" to compare it with: no
        note for it, and no numpy warning (seen as "Mean of empty slice" on stderr)."""
        import warnings

        import numpy as np

        from perflab.compare.runs import _spreads

        runs = ("r1", "r2", "r3", "r4", "far")
        points = {
            (f"B{b}", "time"): (runs, np.array([0.0, 0.01, -0.01, 0.005, 0.7])) for b in range(3)
        }
        points[("only", "time")] = (("far", "far", "far"), np.array([0.7, 0.71, 0.69]))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = _spreads(points, "local")
        assert all("run far " in out[(f"B{b}", "time")][1] for b in range(3))
        assert "makes most of it" not in out[("only", "time")][1]
