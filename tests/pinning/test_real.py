"""Real runtimes (erl, go) in a real one-CPU shield on this machine, always restored.

The benchmark programs print what their own runtime says; the tests assert from
those answers (and from perflab's proof) that they used exactly the reserved CPU,
and that the same programs unpinned see the whole machine.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from perflab.execute.prepared import run_on_runner
from perflab.execute.runner import RunOptions, RunOutcome
from perflab.prepare import engine
from perflab.spec.job import Job, parse_job
from perflab.spec.playbook import parse_profile
from perflab.store import Store, open_store
from tests.prepare.conftest import needs_root_cgroups
from tests.prepare.steal import beyond_steal

SHIELD = "name: t\ntasks:\n  - cpuset_shield: {cpus: reserved}\n"
TWO_CPUS = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
NEED_ALL = os.environ.get("PERFLAB_REQUIRE_ALL") == "1"
ERL_SAYS = (
    'io:format("online=~w bindings=~w~n", [erlang:system_info(schedulers_online), '
    "erlang:system_info(scheduler_bindings)]), halt()."
)
GO_SAYS = """package main

import (
	"fmt"
	"runtime"
)

func main() { fmt.Printf("gomaxprocs=%d numcpu=%d\\n", runtime.GOMAXPROCS(0), runtime.NumCPU()) }
"""


def tool(name: str) -> None:
    if shutil.which(name) is None and not NEED_ALL:
        pytest.skip(f"{name} is not installed")


def job(tmp_path: Path, body: str) -> Job:
    path = tmp_path / "job.yaml"
    text = f"name: pinned\nrepetitions: {{warmup: 0, runs: 1}}\n{body}"
    path.write_text(text)
    return parse_job(text, str(path), path)


def erlang_job(tmp_path: Path, pin: str) -> Job:
    tool("erl")
    return job(
        tmp_path,
        "benchmarks:\n  - name: says\n    command: [erl, -noshell, -eval, "
        f"'{ERL_SAYS}']\n    format: time\npin: {pin}\n",
    )


def go_job(tmp_path: Path, pin: str) -> Job:
    tool("go")
    (tmp_path / "main.go").write_text(GO_SAYS)
    return job(
        tmp_path,
        "setup:\n  - run: env -u GOFLAGS go build -o says main.go\n"
        "benchmarks:\n  - name: says\n    command: ./says\n    format: time\n"
        f"pin: {pin}\n",
    )


def said(outcome: RunOutcome) -> str:
    return (outcome.raw_dir / "steps" / "b0-r1.stdout").read_text().strip()


def pin_of(store: Store, outcome: RunOutcome) -> dict[str, Any]:
    return store.runs.get(outcome.run_id).fields["tuning"]["pin"]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")


def shielded(j: Job, host, store: Store, profile_text: str = SHIELD) -> RunOutcome:
    return run_on_runner(
        j, host, store, profile=parse_profile(profile_text, "t.yml"), opts=RunOptions(), probe=False
    )


@needs_root_cgroups
@TWO_CPUS
class TestInsideOneCpuShield:
    def test_erlang_uses_exactly_the_reserved_cpu(
        self, tmp_path: Path, local_host, store: Store
    ) -> None:
        """Erlang in the shield: one scheduler online, bound to the shield's CPU, and the
        proof from erl itself and /proc says the same."""
        outcome = shielded(erlang_job(tmp_path, "{runtime: erlang}"), local_host, store)
        pin = pin_of(store, outcome)
        cpu = int(pin["cpus"])
        assert outcome.status == "completed", outcome.message
        assert said(outcome) == f"online=1 bindings={{{cpu}}}"
        assert (
            pin["proof"]["ok"]
            and pin["groups"][0]["env"]["ERL_AFLAGS"] == "+S 1:1 +SDcpu 1:1 +sbt db"
        )
        erl = pin["proof"]["answers"]["probe-erlang-1"]
        assert erl["schedulers_online"] == 1 and erl["scheduler_bindings"] == [cpu]
        assert pin["proof"]["answers"]["probe-os-1"]["cpus_allowed"] == [cpu]
        assert beyond_steal(outcome.flags) == []  # the host's steal: tests/prepare/steal.py

    def test_go_uses_exactly_the_reserved_cpu(
        self, tmp_path: Path, local_host, store: Store
    ) -> None:
        """Go in the shield: GOMAXPROCS(0) and NumCPU() are 1, by its own answer and the probe's."""
        outcome = shielded(go_job(tmp_path, "{runtime: go}"), local_host, store)
        assert outcome.status == "completed", outcome.message
        assert said(outcome) == "gomaxprocs=1 numcpu=1"
        pin = pin_of(store, outcome)
        assert pin["proof"]["ok"]
        assert pin["proof"]["answers"]["probe-go-1"]["gomaxprocs"] == 1

    def test_the_seeds_flags_are_caught(self, tmp_path: Path, local_host, store: Store) -> None:
        """The job's own "+S 4:4" wins (recorded as the job's), and the proof marks the run:
        four schedulers online on one CPU, three of them unbound."""
        j = erlang_job(tmp_path, "{runtime: erlang}")
        j = parse_job(
            Path(j.path).read_text() + 'env: {ERL_FLAGS: "+S 4:4"}\n', str(j.path), j.path
        )
        outcome = shielded(j, local_host, store)
        assert outcome.status == "completed"
        flag = next(f for f in outcome.flags if f["code"] == "pin_mismatch")
        assert "unbound online schedulers is 3, expected 0" in flag["message"]
        setting = next(
            s for s in flag["evidence"]["pin"]["groups"][0]["settings"] if s["name"] == "+S"
        )
        assert (setting["value"], setting["source"]) == ("4:4", "job")

    def test_realtime_runaway_is_stopped(self, tmp_path: Path, local_host, store: Store) -> None:
        """fifo:1 with the opt-in: the benchmark runs real-time, and one that never blocks is
        killed by RLIMIT_RTTIME long before its timeout (inside the shield, our own process)."""
        j = job(
            tmp_path,
            "benchmarks:\n  - {name: spin, command: 'while :; do :; done', "
            "format: time, timeout: 20s}\n"
            'pin: {policy: "fifo:1", realtime: {allow: true, limit: 200ms}}\n',
        )
        outcome = shielded(j, local_host, store)
        row = store.runs.get(outcome.run_id).repetitions[-1]
        assert outcome.status == "failed" and not row["timed_out"]
        assert row["signal"] in (9, 24) and row["wall_ns"] < 10e9  # SIGKILL / SIGXCPU
        os_answer = pin_of(store, outcome)["proof"]["answers"]["probe-os-1"]
        assert (os_answer["policy"], os_answer["priority"], os_answer["rttime_us"]) == (
            "fifo",
            1,
            200000,
        )

    def test_profile_pin_defaults(self, tmp_path: Path, local_host, store: Store) -> None:
        """A profile's pin (with an inventory-style variable) applies to a job without one,
        also when the runner was prepared earlier."""
        profile = parse_profile(
            SHIELD + 'pin:\n  runtime: go\n  nice: "{{ perflab_pin_nice | default(2) }}"\n', "t.yml"
        )
        engine.apply(engine.plan_profile(local_host, profile))
        outcome = run_on_runner(
            go_job(tmp_path, "{}"), local_host, store, profile=None, opts=RunOptions(), probe=False
        )
        assert said(outcome) == "gomaxprocs=1 numcpu=1"
        pin = pin_of(store, outcome)
        assert pin["from"]["runtime"] == "profile" and pin["nice"] == 2
        assert pin["proof"]["answers"]["probe-os-1"]["nice"] == 2 and pin["proof"]["ok"]


class TestUnpinned:
    def test_whole_machine(self, tmp_path: Path, store: Store) -> None:
        """cpus: all and no runtime settings: both runtimes see every CPU this test owns."""
        from perflab.execute.flow import run_job
        from perflab.transport.local import LocalTransport

        owned = len(os.sched_getaffinity(0))
        (tmp_path / "e").mkdir()
        (tmp_path / "g").mkdir()
        pin = "{cpus: all, runtime: none}"
        erl = run_job(erlang_job(tmp_path / "e", pin), LocalTransport(), store)
        go = run_job(go_job(tmp_path / "g", pin), LocalTransport(), store)
        assert said(erl).startswith(f"online={owned} ")
        assert said(go) == f"gomaxprocs={owned} numcpu={owned}"
