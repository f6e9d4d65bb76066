"""Counted repetitions on a runner over SSH: a real sshd in a network namespace (the fleet),
the real callgrind on the far side, the counts stored and compared on the controller."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.counters.conftest import loop_job, need

pytestmark = pytest.mark.root


def _add(cli, host, name: str, state: Path):  # type: ignore[no-untyped-def]
    return cli(
        "runner",
        "add",
        name,
        "--host",
        host.address,
        "--port",
        str(host.port),
        "--user",
        host.user,
        "--key",
        str(host.key_file),
        "--accept-new-host-key",
        "--var",
        "perflab_connect_timeout=5",
        "--var",
        f"perflab_state_dir={state}",
    )


@pytest.fixture
def box(cli, fleet, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A registered runner "box" on a fleet host of its own."""
    host = fleet.host(f"cnt{time.monotonic_ns() % 10**9}")
    added = _add(cli, host, "box", tmp_path / "state")
    assert added.status == 0, added.err
    return host


def _instructions(run: dict[str, Any]) -> dict[str, Any]:
    [bench] = run["benchmarks"]
    metric: dict[str, Any] = bench["metrics"]["instructions"]
    return metric


class TestCountedOverSSH:
    def test_counted_runs_on_an_ssh_runner(self, cli, box, loop_dir: Path, tmp_path: Path) -> None:
        """The runner's facts say it counts; two runs count instructions on the far side
        (the workdir copied over, callgrind's files read there), the same count to 0.1%;
        compare calls them counted and the same."""
        need("valgrind")
        facts = cli("runner", "facts", "box", "--json")
        assert facts.status == 0, facts.err
        [row] = facts.json()["runners"]
        assert row["result"]["counting"]["valgrind"], row["result"].get("counting")
        work = tmp_path / "work"  # no workdir: the job's folder goes over to the runner
        work.mkdir()
        (work / "loop").write_bytes((loop_dir / "loop").read_bytes())
        (work / "loop").chmod(0o755)
        job = work / "job.yaml"
        job.write_text(loop_job(loop_dir).replace(f"workdir: {loop_dir}\n", ""))
        runs = []
        for _ in range(2):
            result = cli("run", str(job), "--runner", "box", "--json")
            assert result.status == 0, result.err
            run = result.json()
            assert run["status"] == "completed", run["message"]
            assert run["runner"] == "box"
            kinds = [r["kind"] for r in run["repetitions"]]
            assert kinds == ["run", "run", "count"], kinds
            metric = _instructions(run)
            assert metric["counted"] is True and len(metric["samples"]) == 1
            assert metric["samples"][0] > 200_000 * 5
            runs.append(run)
        one, two = (_instructions(r)["samples"][0] for r in runs)
        assert abs(two / one - 1) <= 0.001, (one, two)
        leftover = box.exec("sh", "-c", "ls /tmp/perflab-run-* 2>/dev/null || true")
        assert runs[0]["run_id"] not in leftover.stdout, "nothing stays on the runner"
        compared = cli("compare", runs[0]["run_id"], runs[1]["run_id"], "--json")
        # two timed repetitions a side decide nothing about time (exit 4); the count does
        assert compared.status in (0, 4), compared.err
        row = next(r for r in compared.json()["rows"] if r["metric"] == "instructions")
        assert row["test"] == "counted" and row["verdict"] == "same", row
        assert row["reason"].startswith("counted: ")

    def test_a_runner_without_valgrind_is_refused(
        self, cli, write_job, box, loop_dir: Path, tmp_path: Path
    ) -> None:
        """The job's PATH on the runner holds no valgrind: one line naming the runner,
        exit 3, nothing stored."""
        need("valgrind")
        empty = tmp_path / "no-valgrind"
        empty.mkdir()
        job = write_job(loop_job(loop_dir, extra=f"env: {{PATH: {empty}}}\n"), "bare.yaml")
        result = cli("run", str(job), "--runner", "box")
        assert result.status == 3, result.err
        lines = [line for line in result.err.splitlines() if line.strip()]
        assert len(lines) == 1, result.err
        assert f"{job}:8:" in lines[0] and 'got runner "box"' in lines[0]
        assert "valgrind is not installed" in lines[0]
        listed = cli("results", "list", "--json").json()
        assert listed == [] or listed.get("runs") == [], listed

    def test_ab_counts_on_an_ssh_runner(self, cli, write_job, box, programs: Path) -> None:
        """`perflab ab --runner box` between a program and one doing 1% more iterations:
        each side's counted repetition runs on the far side after the timed rounds; the
        count calls it regressed (exit 2) whatever the timing says."""
        need("valgrind")
        job = write_job(
            "name: ab-remote\nbenchmarks:\n  - name: loop\n"
            "    command: '\"$PERFLAB_AB_BINARY\" 1000000'\n    format: time\n"
            "repetitions: {warmup: 0, runs: 2}\ncounters: [instructions]\n"
        )
        old, new = programs / "old", programs / "new"
        result = cli("ab", str(job), str(old), str(new), "--runner", "box", "--json")
        assert result.status == 2, result.err
        doc = result.json()
        assert doc["counted_rounds"] == 1 and doc["rounds"] == [[0, 1], [1, 0], [0, 1]]
        for run in doc["runs"]:
            assert run["runner"] == "box" and run["status"] == "completed", run["message"]
            assert [r["kind"] for r in run["repetitions"]] == ["run", "run", "count"]
        row = next(r for r in doc["comparison"]["rows"] if r["metric"] == "instructions")
        assert row["verdict"] == "regressed" and row["test"] == "counted"
        assert 0.009 < row["change"] < 0.011, row["change"]
