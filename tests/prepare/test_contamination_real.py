"""Contamination evidence end to end on the local runner: a real CPU hog pinned to the
benchmark's CPU is flagged with the numbers; a quiet run in the shield is not.

Machine-wide (tests/conftest.py, MACHINE_CHANGING): the quiet run applies the shield,
and another session's shield would move the hog off the benchmark's CPU."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from perflab.execute.flow import run_job
from perflab.execute.prepared import run_on_runner
from perflab.execute.runner import RunOptions
from perflab.spec.job import Job, parse_job
from perflab.spec.playbook import parse_profile
from perflab.store import Store, open_store
from perflab.transport.local import LocalTransport
from tests.prepare.conftest import needs_root_cgroups
from tests.prepare.steal import steal_only

pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")

JOB = """\
name: loop
benchmarks:
  - name: loop
    command: [python3, -c, "x = 0\\nfor i in range(1_500_000): x += i"]
    format: time
repetitions: {warmup: 1, runs: 8}
pin: {cpus: "1"}
"""
FLAG = re.compile(r"other processes used (\d+)% of CPU 1 during (\d+)/8 repetitions")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")


def loop_job(tmp_path: Path) -> Job:
    path = tmp_path / "loop.yaml"
    path.write_text(JOB)
    return parse_job(JOB, str(path), path)


def flag_of(store: Store, run_id: str) -> dict | None:
    flags = store.runs.get(run_id).fields.get("flags") or []
    found = [f for f in flags if f.get("code") == "contaminated"]
    return found[0] if found else None


class TestContamination:
    def test_a_hog_on_the_benchmarks_cpu_is_flagged_with_the_numbers(
        self, tmp_path: Path, store: Store, neighbours
    ) -> None:
        """A busy loop this test pins to CPU 1 (killed at the end): the run carries the flag
        `contaminated` saying how much of CPU 1 others used in how many repetitions, and
        every measured repetition stores its share."""
        neighbours.start("perflab-test-hog", cpu=1)
        time.sleep(0.2)
        outcome = run_job(loop_job(tmp_path), LocalTransport(), store)
        flag = flag_of(store, outcome.run_id)
        assert flag is not None, outcome.flags
        found = FLAG.search(flag["message"])
        assert found, flag["message"]
        assert int(found.group(1)) >= 30 and int(found.group(2)) >= 6
        assert flag["evidence"]["cpus"] == [1] and flag["evidence"]["other_share"] >= 0.3
        runs = [r for r in store.runs.get(outcome.run_id).repetitions if r["kind"] == "run"]
        assert len(runs) == 8 and all(r["other_share"] >= 0.25 for r in runs), runs

    @needs_root_cgroups
    def test_a_quiet_run_in_the_shield_is_not_flagged(
        self, tmp_path: Path, store: Store, local_host
    ) -> None:
        """The same job inside the shield (every movable task on CPU 0): no flag, and the
        repetitions show others' share of CPU 1 below the threshold."""
        profile = parse_profile("name: t\ntasks:\n  - cpuset_shield: {cpus: reserved}\n", "t.yml")
        outcome = run_on_runner(
            loop_job(tmp_path), local_host, store, profile=profile, opts=RunOptions(), probe=False
        )
        assert outcome.status == "completed", outcome.message
        flag = flag_of(store, outcome.run_id)  # the host's steal alone: tests/prepare/steal.py
        assert flag is None or steal_only(flag), outcome.flags
        runs = [r for r in store.runs.get(outcome.run_id).repetitions if r["kind"] == "run"]
        assert len(runs) == 8 and all(r["other_share"] is not None for r in runs)
        assert sorted(r["other_share"] for r in runs)[4] < 0.05, runs


class TestNoiseProbe:
    def test_the_probe_fails_a_cpu_a_hog_shares(self, tmp_path: Path, neighbours) -> None:
        """A busy loop pinned to CPU 1: `verify`'s probe fails it, naming how much of CPU 1
        others used, and keeps the verdict in the host's history."""
        from perflab.prepare.host import RunnerHost
        from perflab.prepare.verify import history_file, judged_probe

        host = RunnerHost("local", LocalTransport(), {"perflab_state_dir": str(tmp_path / "state")})
        neighbours.start("perflab-test-hog", cpu=1)
        time.sleep(0.2)
        verdict = judged_probe(host, [1], {}, repetitions=40, work_ms=5.0)
        assert not verdict.ok
        assert verdict.cpus[0].other_share is not None and verdict.cpus[0].other_share >= 0.3
        assert re.match(
            r"other processes used \d+% of CPU 1 during the probe", verdict.cpus[0].failures[0]
        ), verdict.cpus[0].failures
        kept = json.loads(Path(history_file(host)).read_text())
        assert len(kept) == 1 and kept[0]["cpu"] == 1 and kept[0]["ok"] is False

    @needs_root_cgroups
    def test_the_probe_passes_a_quiet_shielded_cpu(self, local_host) -> None:
        """In the shield, with no history yet (timing not judged): the contamination
        evidence says quiet, and the probe passes."""
        from perflab.prepare import engine
        from perflab.prepare.verify import judged_probe

        profile = parse_profile("name: t\ntasks:\n  - cpuset_shield: {cpus: reserved}\n", "t.yml")
        report = engine.apply(engine.plan_profile(local_host, profile))
        verdict = judged_probe(
            local_host, [1], {}, repetitions=40, work_ms=5.0, tasks_file=report.shield["tasks_file"]
        )
        assert verdict.ok, verdict.to_dict()
        assert verdict.cpus[0].other_share is not None and verdict.cpus[0].other_share < 0.05
