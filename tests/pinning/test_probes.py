"""Probe programs run for real (python, erl, go) and their answers parsed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perflab.pinning import probes

NEED_ALL = os.environ.get("PERFLAB_REQUIRE_ALL") == "1"


def tool(name: str) -> None:
    if shutil.which(name) is None and not NEED_ALL:
        pytest.skip(f"{name} is not installed")


def run_probe(
    kind: str, tmp_path: Path, env: dict[str, str] | None = None, cpu: int | None = None
) -> str:
    step = probes.command(
        kind, python=sys.executable, rundir=str(tmp_path), keys=["GOMAXPROCS", "ERL_AFLAGS"]
    )
    argv = step["argv"] if "argv" in step else ["/bin/sh", "-c", step["shell"]]
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=tmp_path,
        preexec_fn=pin,
    )
    return done.stdout


LAST_CPU = max(os.sched_getaffinity(0))


class TestParseOs:
    def test_real_answer(self, tmp_path: Path) -> None:
        """The os probe reports its own affinity, policy, nice and the variables it got."""
        answer = probes.parse("os", run_probe("os", tmp_path, {"GOMAXPROCS": "1"}, LAST_CPU))
        assert answer["cpus_allowed"] == [LAST_CPU]
        assert answer["policy"] == "other" and answer["priority"] == 0
        assert answer["nice"] == os.getpriority(os.PRIO_PROCESS, 0)
        assert answer["env"] == {"GOMAXPROCS": "1"} and answer["rttime_us"] is None

    def test_stat_fields(self) -> None:
        """/proc/PID/stat fields after the command name, which may hold spaces and ')'."""
        stat = "42 (a) b) S" + " 0" * 15 + " 7" + " 0" * 20 + " 55 1" + " 0" * 10
        limits = "Max realtime timeout      200000               200000               us\n"
        text = json.dumps(
            {
                "status": "Cpus_allowed_list:\t2-3\n",
                "stat": stat,
                "limits": limits,
                "cgroup": "3:cpuset:/perflab-shield\n",
                "env": {},
            }
        )
        answer = probes.parse_os(text)
        assert (answer["nice"], answer["priority"], answer["policy"]) == (7, 55, "fifo")
        assert answer["cpus_allowed"] == [2, 3] and answer["rttime_us"] == 200000
        assert answer["cpuset"] == "/perflab-shield"


class TestParseErlang:
    def test_real_answer(self, tmp_path: Path) -> None:
        """erl answers with its schedulers and their bindings."""
        tool("erl")
        text = run_probe("erlang", tmp_path, {"ERL_AFLAGS": "+S 1:1 +sbt db"}, LAST_CPU)
        answer = probes.parse("erlang", text)
        assert answer["schedulers"] == 1 and answer["schedulers_online"] == 1
        assert answer["scheduler_bindings"] == [LAST_CPU]

    def test_unbound(self) -> None:
        """Unbound schedulers are None."""
        text = "schedulers=2\nschedulers_online=1\nscheduler_bindings=[u,u]\n"
        assert probes.parse_erlang(text)["scheduler_bindings"] == [None, None]

    def test_garbage(self) -> None:
        """Output that is not the probe's is a ValueError, never a wrong answer."""
        with pytest.raises(ValueError, match="schedulers_online"):
            probes.parse("erlang", "Crash dump is being written\n")


class TestParseGo:
    def test_real_answer(self, tmp_path: Path) -> None:
        """The Go probe is built with go build and reports GOMAXPROCS(0) and NumCPU()."""
        tool("go")
        answer = probes.parse("go", run_probe("go", tmp_path, {"GOMAXPROCS": "1"}))
        assert answer["gomaxprocs"] == 1 and answer["numcpu"] == len(os.sched_getaffinity(0))
        assert answer["version"].startswith("go")

    def test_garbage(self) -> None:
        """No gomaxprocs line: a ValueError."""
        with pytest.raises(ValueError):
            probes.parse("go", "build failed\n")


class TestParseJvm:
    def test_answer(self) -> None:
        """available_processors as the JVM prints it."""
        assert probes.parse("jvm", "available_processors=3\nversion=17\n") == {
            "available_processors": 3,
            "version": "17",
        }
