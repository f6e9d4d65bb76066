"""Counted repetitions in experiments: A/B (`perflab ab`, a job's `ab:`) and `--vary`, under
the real callgrind. Each variant gets its counted repetitions, in rounds of their own after
the timed ones, interleaved like them; the comparison decides the counts near-exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.counters.conftest import need

AB_JOB = """\
name: counted-ab
benchmarks:
  - name: loop
    command: '"$PERFLAB_AB_BINARY" 1000000'
    format: time
repetitions: {warmup: 0, runs: 3}
counters: [instructions]
"""


def _row(doc: dict[str, Any], metric: str) -> dict[str, Any]:
    row: dict[str, Any] = next(r for r in doc["comparison"]["rows"] if r["metric"] == metric)
    return row


def _requests(run: dict[str, Any]) -> dict[str, list[str]]:
    """The step ids of each harness call of an experiment's run, by round."""
    folder = Path(run["raw_dir"])
    out = {}
    for path in sorted(folder.glob("request-r*.json")):
        out[path.stem.removeprefix("request-")] = [
            s["id"] for s in json.loads(path.read_text())["steps"]
        ]
    return out


class TestCountedAB:
    def test_one_percent_more_work_with_one_pair(self, cli, write_job, programs: Path) -> None:
        """`perflab ab` between a program and one doing 1% more iterations: one counted
        repetition a side, after both sides' timed ones and interleaved like them, calls
        instructions regressed (counted, exit 2) however the timing came out; time and
        counts stand side by side."""
        need("valgrind")
        job = write_job(AB_JOB)
        result = cli("ab", str(job), str(programs / "old"), str(programs / "new"), "--json")
        assert result.status == 2, result.err
        doc = result.json()
        for run in doc["runs"]:
            assert run["status"] == "completed", run["message"]
            kinds = [r["kind"] for r in run["repetitions"]]
            assert kinds == ["run", "run", "run", "count"], kinds
            metric = next(b for b in run["benchmarks"])["metrics"]["instructions"]
            assert metric["counted"] is True and len(metric["samples"]) == 1
            assert len(next(b for b in run["benchmarks"])["metrics"]["wall_time"]["samples"]) == 3
            # the counted repetition is a round of its own, after the last timed one
            assert _requests(run) == {
                "r1": ["b0-r1"],
                "r2": ["b0-r2"],
                "r3": ["b0-r3"],
                "r4": ["b0-c1"],
            }
        assert doc["counted_rounds"] == 1
        assert doc["rounds"] == [[0, 1], [1, 0], [0, 1], [1, 0]]  # ABBA, the counts' too
        row = _row(doc, "instructions")
        assert row["verdict"] == "regressed" and row["test"] == "counted"
        assert row["reason"].startswith("counted: instructions +")
        assert 0.009 < row["change"] < 0.011, row["change"]
        kinds = {f["kind"] for f in doc["comparison"]["findings"]}
        time_verdict = _row(doc, "wall_time")["verdict"]
        if time_verdict in ("same", "unknown"):
            assert "work_hidden_by_noise" in kinds
        text = cli("ab", str(job), str(programs / "old"), str(programs / "new"))
        assert text.status == 2, text.err
        assert "4 rounds" not in text.out and "3 rounds (and 1 counted round)" in text.out
        assert "time and counts" in text.out and "instructions +" in text.out

    def test_the_same_program_counts_the_same(self, cli, write_job, programs: Path) -> None:
        """Two copies of one program: instructions the same, counted; never exit 2 on the
        count; `perflab compare A B` of the experiment's runs says the same."""
        need("valgrind")
        job = write_job(AB_JOB.replace("runs: 3", "runs: 2") + "counting: {runs: 2}\n")
        result = cli("ab", str(job), str(programs / "old"), str(programs / "same"), "--json")
        assert result.status in (0, 4), result.err
        doc = result.json()
        for run in doc["runs"]:
            assert list(_requests(run).values())[-2:] == [["b0-c1"], ["b0-c2"]]
            samples = run["benchmarks"][0]["metrics"]["instructions"]["samples"]
            assert len(samples) == 2 and samples[0] == samples[1]
        assert doc["counted_rounds"] == 2 and len(doc["rounds"]) == 4
        row = _row(doc, "instructions")
        assert row["verdict"] == "same" and row["test"] == "counted"
        assert abs(row["change"]) < 0.0001  # the programs' paths differ by a letter
        a, b = (r["run_id"] for r in doc["runs"])
        compared = cli("compare", a, b, "--json")
        row = next(r for r in compared.json()["rows"] if r["metric"] == "instructions")
        assert row["verdict"] == "same" and row["test"] == "counted"

    def test_time_moves_counts_do_not(self, cli, write_job, programs: Path) -> None:
        """An `ab:` job whose B sleeps 0.2 s after the same work: wall time regressed (or, on
        a machine busy enough to flag the runs, unmeasured with its raw ratio far up), the
        instructions counted the same: the finding blames the host, not the code. Eight pairs:
        with six, a signed-rank test across five rows cannot confirm even a 60x change (see
        tests/stats/test_power.py)."""
        need("valgrind")
        job = write_job(
            "name: napper\nenv: {DELAY: '0'}\nbenchmarks:\n  - name: loop\n"
            f"    command: '{programs / 'old'} 1000000 && sleep $DELAY'\n    format: time\n"
            "repetitions: {warmup: 0, runs: 8}\ncounters: [instructions]\n"
            "ab: {vary: DELAY, values: ['0', '0.2']}\n"
        )
        result = cli("run", str(job), "--json")
        assert result.status in (2, 4), result.err
        doc = result.json()
        for run in doc["runs"]:
            assert list(_requests(run))[-1] == "r9" and _requests(run)["r9"] == ["b0-c1"]
        assert doc["counted_rounds"] == 1 and len(doc["rounds"]) == 9
        work = _row(doc, "instructions")
        assert work["verdict"] == "same" and work["test"] == "counted"
        time = _row(doc, "wall_time")
        assert time["ratio"] > 5
        if time["verdict"] == "regressed":
            assert result.status == 2
            [finding] = [f for f in doc["comparison"]["findings"] if f["benchmark"] == "loop"]
            assert finding["kind"] == "host_not_code"
            assert "the host, not the code" in finding["message"]
        else:  # flags decide: a contaminated measurement is never called regressed
            assert time["verdict"] == "unknown" and "contaminated" in time["unmeasured"]


class TestCountedVary:
    def test_every_value_is_counted(self, cli, write_job, programs: Path) -> None:
        """`perflab run --vary N=...`: each value's run has its counted repetition, in a
        round after every value's timed ones; the counts follow the work exactly."""
        need("valgrind")
        job = write_job(
            f"name: vary\nenv: {{N: '100000'}}\nbenchmarks:\n  - name: loop\n"
            f"    command: '{programs / 'old'} $N'\n    format: time\n"
            "repetitions: {warmup: 0, runs: 2}\ncounters: [instructions]\n"
        )
        result = cli("run", str(job), "--vary", "N=100000,200000,400000", "--json")
        assert result.status == 0, result.err
        doc = result.json()
        counts = []
        for run in doc["runs"]:
            assert run["status"] == "completed", run["message"]
            assert _requests(run) == {"r1": ["b0-r1"], "r2": ["b0-r2"], "r3": ["b0-c1"]}
            metric = run["benchmarks"][0]["metrics"]["instructions"]
            assert metric["counted"] is True
            counts.append(metric["samples"][0])
        assert doc["counted_rounds"] == 1
        assert doc["rounds"] == [[0, 1, 2], [2, 1, 0], [0, 1, 2]]
        # the same start-up, then 7 instructions an iteration (a multiply-add loop at -O2)
        first, second = counts[1] - counts[0], counts[2] - counts[1]
        assert first > 600_000 and abs(second / (2 * first) - 1) < 0.001, counts


class TestRefusedExperiments:
    def _nothing_stored(self, cli) -> None:  # type: ignore[no-untyped-def]
        listed = cli("results", "list", "--json")
        assert listed.status == 0, listed.err
        assert listed.json()["runs"] == [], listed.out

    def test_ab_where_valgrind_is_missing(
        self, cli, write_job, programs: Path, tmp_path: Path
    ) -> None:
        """`perflab ab` with a PATH that has no valgrind: one line at the job's own
        `counters:` line, exit 3, nothing stored."""
        need("valgrind")
        empty = tmp_path / "no-valgrind"
        empty.mkdir()
        job = write_job(AB_JOB + f"env: {{PATH: {empty}}}\n")
        result = cli("ab", str(job), str(programs / "old"), str(programs / "new"))
        assert result.status == 3, result.err
        lines = [line for line in result.err.splitlines() if line.strip()]
        assert len(lines) == 1, result.err
        assert lines[0].startswith(f"perflab: error: {job}:7:11: counters: "), lines[0]
        assert 'count "instructions"' in lines[0] and "valgrind is not installed" in lines[0]
        self._nothing_stored(cli)

    def test_one_value_cannot_count(self, cli, write_job, programs: Path, tmp_path: Path) -> None:
        """`--vary PATH=...` where only the second value lacks valgrind: refused before the
        first value's run exists (exit 3, one line naming that value), nothing stored."""
        need("valgrind")
        empty = tmp_path / "no-valgrind"
        empty.mkdir()
        job = write_job(
            f"name: vp\nenv: {{PATH: /usr/bin}}\nbenchmarks:\n  - name: loop\n"
            f"    command: ['{programs / 'old'}', '1000']\n    format: time\n"
            "repetitions: {warmup: 0, runs: 1}\ncounters: [instructions]\n"
        )
        result = cli("run", str(job), "--vary", f"PATH=/usr/bin,{empty}")
        assert result.status == 3, result.err
        self._nothing_stored(cli)  # not even the first value's run, failed
        lines = [line for line in result.err.splitlines() if line.strip()]
        assert len(lines) == 1, result.err
        assert f"{job} (--vary PATH={empty}):8:11: counters: " in lines[0], lines[0]
        assert "valgrind is not installed" in lines[0]
