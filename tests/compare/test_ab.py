"""A/B mode: two variants in one job, interleaved on one host, compared on paired ratios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.compare.conftest import assert_regressed

SLEEPER = """\
name: ab
env: {{DELAY: "0.02"}}
benchmarks:
  - name: nap
    command: [{python}, -c, "import os, time; time.sleep(float(os.environ['DELAY'])); sum(range(int(float(os.environ['DELAY']) * 4e7)))"]
    format: time
repetitions: {{warmup: 0, runs: {runs}}}
ab: {{{ab}}}
"""
#: the test's own interpreter: ``python3`` on PATH may be a pyenv shim, whose own CPU time
#: would water down the 4x difference in the work
PYTHON = json.dumps(sys.executable)


def sleeper(ab: str, runs: int = 12) -> str:
    return SLEEPER.format(python=PYTHON, ab=ab, runs=runs)


class TestAbMode:
    def test_env_variants_interleaved_and_paired(self, cli, write_job) -> None:
        """B does 4x the CPU work: regressed on paired ratios (user CPU time, which other
        machines' load does not inflate); rounds go A B, B A, ..."""
        job = write_job(sleeper("vary: DELAY, values: ['0.05', '0.2']"))
        result = cli("run", str(job), "--json")
        assert_regressed(result, low=1.7)  # exit 2, or 4 if the busy machine contaminated it
        doc = result.json()
        assert doc["rounds"][:4] == [[0, 1], [1, 0], [0, 1], [1, 0]] and len(doc["rounds"]) == 12
        a, b = doc["runs"]
        assert a["experiment"] == b["experiment"] and a["run_id"] != b["run_id"]
        rows = {r["metric"]: r for r in doc["comparison"]["rows"]}
        # 4x the loop plus the same interpreter start-up on both sides
        assert rows["user_time"]["ratio"] < 6.0

    def test_compare_command_pairs_runs_of_one_experiment(self, cli, write_job) -> None:
        """`perflab compare A B` on an experiment's runs compares them paired too."""
        job = write_job(sleeper("vary: DELAY, values: ['0.02', '0.02']", runs=6))
        doc = cli("run", str(job), "--json").json()
        a, b = (r["run_id"] for r in doc["runs"])
        compared = cli("compare", a, b, "--json").json()
        assert all(r["paired"] for r in compared["rows"] if r["verdict"] != "not_comparable")
        assert compared["regression"] is False

    def test_random_order_is_seeded(self, cli, write_job) -> None:
        """order: random shuffles each round, the same way for the same seed."""
        job = write_job(
            sleeper("vary: DELAY, values: ['0.01', '0.01'], order: random, seed: 7", runs=6)
        )
        first = cli("run", str(job), "--json").json()["rounds"]
        second = cli("run", str(job), "--json").json()["rounds"]
        assert first == second and len({tuple(r) for r in first}) == 2

    def test_two_git_commits(self, cli, tmp_path: Path) -> None:
        """refs: each variant runs in a clean export of its commit."""
        repo = tmp_path / "repo"
        repo.mkdir()
        git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
        subprocess.run([*git, "init", "-q"], check=True)
        script = repo / "work.py"
        for delay in ("0.05", "0.2"):
            script.write_text(f"sum(range(int({delay} * 4e7)))\nprint('{delay}')\n")
            subprocess.run([*git, "add", "work.py"], check=True)
            subprocess.run([*git, "commit", "-qm", delay], check=True)
        (repo / "job.yaml").write_text(
            f"name: commits\nbenchmarks:\n  - {{name: w, command: [{PYTHON}, work.py], "
            "format: time}\nrepetitions: {warmup: 0, runs: 12}\nab: {refs: [HEAD~1, HEAD]}\n"
        )
        result = cli("run", str(repo / "job.yaml"), "--json")
        assert_regressed(result)
        doc = result.json()
        outs = [Path(r["repetitions"][0]["stdout_path"]).read_text() for r in doc["runs"]]
        assert outs == ["0.05\n", "0.2\n"]
        assert not list(Path("/tmp").glob("perflab-ab-*")) or all(
            p.stat().st_mtime < 0 for p in Path("/tmp").glob("perflab-ab-*")
        ), "exports removed"

    def test_bad_ab_input(self, cli, write_job, tmp_path: Path) -> None:
        """A key the job does not have, or a ref that does not exist: exit 3."""
        bad_key = cli("run", str(write_job(sleeper("vary: NOPE, values: [a, b]"))))
        assert bad_key.status == 3 and "NOPE" in bad_key.err
        bad_ref = cli("run", str(write_job(sleeper("refs: [nope-1, nope-2]"))))
        assert bad_ref.status == 3 and "nope-1" in bad_ref.err
