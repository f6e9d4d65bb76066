"""The host-side harness, driven through the local transport with real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from perflab.hostside import source
from perflab.transport.local import LocalTransport


@pytest.fixture(autouse=True, params=["spawner", "fast", "os"])
def spawn_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every harness test runs with each way of spawning a step: the tiny static spawner
    (x86-64 Linux), posix_spawn through ctypes with arrays built ahead (glibc Linux) and
    CPython's os.posix_spawn."""
    if request.param == "spawner":
        monkeypatch.delenv("PERFLAB_SPAWN", raising=False)
    else:
        monkeypatch.setenv("PERFLAB_SPAWN", "ctypes" if request.param == "fast" else "os")
    return str(request.param)


def run_harness(request: dict[str, Any]) -> list[dict[str, Any]]:
    transport = LocalTransport()
    process = transport.start(
        transport.helper_argv(source("harness")), stdin=json.dumps(request).encode()
    )
    events = [json.loads(line) for line in process.lines()]
    result = process.wait(timeout=60)
    assert result.exit_status == 0, result.stderr
    return events


def request(tmp_path: Path, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "workdir": str(tmp_path),
        "rundir": str(tmp_path / "out"),
        "env": {},
        "cpus": None,
        "job_timeout": None,
        "steps": steps,
        **extra,
    }


def steps_of(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in events if e["event"] == "step"}


def output(events: list[dict[str, Any]], sid: str, name: str = "stdout") -> str:
    """A step's output: its byte range of the shared log."""
    log = Path(events[0]["logs"][name]).read_bytes()
    start, end = steps_of(events)[sid][name]
    return log[start:end].decode()


class TestRepetitionRecords:
    def test_outputs_of_steps_do_not_mix(self, tmp_path: Path) -> None:
        """Each step's byte range holds exactly its own output, in order."""
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": f"r{i}", "kind": "run", "shell": f"echo out{i}; echo err{i} >&2"}
                    for i in range(5)
                ],
            )
        )
        for i in range(5):
            assert output(events, f"r{i}") == f"out{i}\n"
            assert output(events, f"r{i}", "stderr") == f"err{i}\n"

    def test_rusage_and_outputs_are_recorded(self, tmp_path: Path) -> None:
        """A step records wall and CPU time, RSS, context switches and its own output files."""
        code = "x = bytearray(20_000_000); s = sum(range(2_000_000)); print('hello')"
        events = run_harness(
            request(tmp_path, [{"id": "b0-r1", "kind": "run", "argv": ["python3", "-c", code]}])
        )
        step = steps_of(events)["b0-r1"]
        assert step["exit"] == 0 and step["error"] is None
        assert step["user_ns"] > 0
        assert step["wall_ns"] >= step["user_ns"] * 0.5
        assert step["maxrss_kb"] > 20_000  # the 20 MB bytearray
        assert step["nvcsw"] + step["nivcsw"] >= 0
        assert output(events, "b0-r1") == "hello\n"
        assert events[-1] == {"event": "done", "interrupted": False, "job_timed_out": False}

    def test_failing_step_keeps_stderr_and_status(self, tmp_path: Path) -> None:
        """A failing repetition is recorded with its exit status and stderr."""
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": "b0-r1", "kind": "run", "shell": "echo boom >&2; exit 3"},
                    {"id": "b0-r2", "kind": "run", "shell": "true"},
                ],
            )
        )
        steps = steps_of(events)
        assert steps["b0-r1"]["exit"] == 3
        assert output(events, "b0-r1", "stderr") == "boom\n"
        assert steps["b0-r2"]["exit"] == 0, "a failed repetition must not stop the others"

    def test_failing_setup_stops_the_job(self, tmp_path: Path) -> None:
        """Benchmarks never run on a failed build."""
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": "setup-1", "kind": "setup", "shell": "exit 1"},
                    {"id": "b0-r1", "kind": "run", "shell": "true"},
                ],
            )
        )
        assert list(steps_of(events)) == ["setup-1"]

    def test_environment_and_workdir(self, tmp_path: Path) -> None:
        """Steps run in the workdir with the job's and the step's environment."""
        events = run_harness(
            request(
                tmp_path,
                [{"id": "s", "kind": "run", "shell": 'echo "$A $B $(pwd)"', "env": {"B": "two"}}],
                env={"A": "one"},
            )
        )
        out = output(events, "s").split()
        assert out == ["one", "two", str(tmp_path)]

    def test_output_file_is_collected_and_stale_one_removed(self, tmp_path: Path) -> None:
        """A tool's output file is copied per repetition; a stale file never counts."""
        (tmp_path / "result.json").write_text("stale")
        events = run_harness(
            request(
                tmp_path,
                [
                    {
                        "id": "r1",
                        "kind": "run",
                        "shell": "echo fresh > result.json",
                        "output": "result.json",
                    },
                    {"id": "r2", "kind": "run", "shell": "true", "output": "result.json"},
                ],
            )
        )
        steps = steps_of(events)
        assert Path(steps["r1"]["output"]).read_text() == "fresh\n"
        assert steps["r2"]["output"] is None
        assert "was not written" in steps["r2"]["error"]


class TestPlacement:
    @pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
    def test_children_inherit_the_cpus(self, tmp_path: Path) -> None:
        """The benchmark and its children run only on the CPUs the job names."""
        cpu = max(os.sched_getaffinity(0))
        events = run_harness(
            request(
                tmp_path,
                [
                    {
                        "id": "s",
                        "kind": "run",
                        "shell": "grep Cpus_allowed_list /proc/self/status; "
                        "sh -c 'grep Cpus_allowed_list /proc/self/status'",
                    }
                ],
                cpus=[cpu],
            )
        )
        lines = output(events, "s").splitlines()
        assert lines == [f"Cpus_allowed_list:\t{cpu}"] * 2
        assert events[0]["cpus"] == [cpu]


class TestTimeouts:
    def test_timeout_kills_the_whole_process_group(self, tmp_path: Path) -> None:
        """A timed-out step's background children die with it."""
        marker = tmp_path / "pid"
        events = run_harness(
            request(
                tmp_path,
                [
                    {
                        "id": "s",
                        "kind": "run",
                        "timeout": 0.5,
                        "shell": f"sleep 30 & echo $! > {marker}; wait",
                    }
                ],
            )
        )
        step = steps_of(events)["s"]
        assert step["timed_out"] and step["signal"] == 9
        assert "timed out after 0.5 s" in step["error"]
        child = int(marker.read_text())
        time.sleep(0.2)
        assert (
            not Path(f"/proc/{child}").exists()
            or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
        )

    def test_stray_children_are_killed_after_a_normal_exit(self, tmp_path: Path) -> None:
        """A benchmark that leaves a daemon behind does not keep it."""
        marker = tmp_path / "pid"
        run_harness(
            request(
                tmp_path, [{"id": "s", "kind": "run", "shell": f"sleep 30 & echo $! > {marker}"}]
            )
        )
        child = int(marker.read_text())
        time.sleep(0.2)
        assert (
            not Path(f"/proc/{child}").exists()
            or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
        )

    def test_job_timeout_stops_the_job(self, tmp_path: Path) -> None:
        """The job deadline caps each step and ends the job."""
        events = run_harness(
            request(
                tmp_path,
                [{"id": f"r{i}", "kind": "run", "shell": "sleep 0.4"} for i in range(10)],
                job_timeout=1.0,
            )
        )
        assert events[-1]["job_timed_out"] is True
        assert len(steps_of(events)) < 10


class TestEventBatching:
    def test_short_repetitions_are_batched_but_never_wait_for_another_benchmark(
        self, tmp_path: Path
    ) -> None:
        """Events of short repetitions may be sent together, but all of them arrive before
        a long step of the next benchmark ends."""
        transport = LocalTransport()
        steps = [
            {"id": f"b0-r{i}", "kind": "run", "benchmark": 0, "argv": ["true"]} for i in range(5)
        ]
        steps.append({"id": "b1-r0", "kind": "run", "benchmark": 1, "shell": "sleep 1.5"})
        process = transport.start(
            transport.helper_argv(source("harness")),
            stdin=json.dumps(request(tmp_path, steps)).encode(),
        )
        arrived = {}
        for line in process.lines():
            event = json.loads(line)
            arrived[event.get("id", event["event"])] = time.monotonic()
        assert process.wait(timeout=30).exit_status == 0
        assert [f"b0-r{i}" for i in range(5)] == [k for k in arrived if k.startswith("b0")]
        assert arrived["b1-r0"] - max(arrived[f"b0-r{i}"] for i in range(5)) > 1.0


class TestInterrupt:
    def test_interrupt_stops_cleanly(self, tmp_path: Path) -> None:
        """SIGINT to the harness kills the running step and reports what was done."""
        transport = LocalTransport()
        req = request(
            tmp_path,
            [
                {"id": "r1", "kind": "run", "shell": "true"},
                {"id": "r2", "kind": "run", "shell": "sleep 30"},
                {"id": "r3", "kind": "run", "shell": "true"},
            ],
        )
        process = transport.start(
            transport.helper_argv(source("harness")), stdin=json.dumps(req).encode()
        )
        events = []
        for line in process.lines():
            events.append(json.loads(line))
            if events[-1].get("id") == "r1":
                time.sleep(0.3)
                process.interrupt()
        process.wait(timeout=10)
        steps = steps_of(events)
        assert steps["r1"]["exit"] == 0
        assert steps["r2"].get("interrupted") is True
        assert "r3" not in steps
        assert events[-1]["interrupted"] is True


class TestPreflight:
    def test_missing_program_stops_before_measuring(self, tmp_path: Path) -> None:
        """A benchmark program that does not exist is reported after setup, before any run."""
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": "setup-1", "kind": "setup", "shell": "true"},
                    {"id": "b0-r1", "kind": "run", "argv": ["./not-built"]},
                ],
                check=[
                    {"program": "./not-built", "field": "benchmarks[0].command"},
                    {"program": "sh", "field": "benchmarks[1].command"},
                ],
            )
        )
        assert [e["event"] for e in events] == ["start", "step", "missing", "done"]
        assert events[2]["items"] == [{"program": "./not-built", "field": "benchmarks[0].command"}]

    def test_program_built_by_setup_is_found(self, tmp_path: Path) -> None:
        """The check runs after setup, so a program the build makes counts."""
        events = run_harness(
            request(
                tmp_path,
                [
                    {
                        "id": "setup-1",
                        "kind": "setup",
                        "shell": "printf '#!/bin/sh\\necho built\\n' > tool && chmod +x tool",
                    },
                    {"id": "b0-r1", "kind": "run", "argv": ["./tool"]},
                ],
                check=[{"program": "./tool", "field": "benchmarks[0].command"}],
            )
        )
        assert output(events, "b0-r1") == "built\n"


class TestPlacementFailure:
    def test_cpus_outside_the_allowed_set_are_one_clear_event(self, tmp_path: Path) -> None:
        """Asking for a CPU the process may not use ends in one 'fatal' event, no traceback."""
        events = run_harness(
            request(tmp_path, [{"id": "r", "kind": "run", "shell": "true"}], cpus=[4096])
        )
        assert [e["event"] for e in events] == ["fatal"]
        assert "cannot place the benchmark" in events[0]["error"]


class TestSpawnPaths:
    def test_each_path_is_available_here(self, spawn_path: str) -> None:
        """On this x86-64 glibc machine the spawner is used unless told otherwise, then the
        ctypes path unless told "os"."""
        from perflab.hostside import spawn

        fds = {"stdin": 0, "stdout": 1, "stderr": 2}
        fast = spawn.FastSpawn.create(fds, {})
        spawner = spawn.Spawner.create(fds, {})
        try:
            assert (fast is not None) == (spawn_path != "os")
            assert (spawner is not None) == (spawn_path == "spawner")
        finally:
            if spawner is not None:
                spawner.close()

    def test_the_embedded_spawner_is_the_one_built(self) -> None:
        """SPAWNER_X86_64 is spawner/spawner-x86_64.bin (rebuild both with build.sh)."""
        import base64

        from perflab.hostside import spawn

        built = Path(spawn.__file__).parent / "spawner" / "spawner-x86_64.bin"
        assert base64.b64decode(spawn.SPAWNER_X86_64) == built.read_bytes()

    def test_environment_and_arguments_reach_the_step_exactly(self, tmp_path: Path) -> None:
        """The step's variables override the base ones (no duplicate entries), arguments
        arrive unchanged (spaces, quotes, non-ASCII), the step runs in a group of its own."""
        code = (
            "import os, sys, json; print(json.dumps({'env': dict(os.environ), "
            "'dup': len(os.environ) != len(set(os.environ)), 'argv': sys.argv[1:], "
            "'own_group': os.getpgid(0) == os.getpid()}))"
        )
        steps = [
            {
                "id": f"b0-r{i}",
                "kind": "run",
                "benchmark": 0,
                "env": {"PERFLAB_REPETITION": str(i), "HOME": "/nowhere"},
                "argv": [sys.executable, "-c", code, "a b", "qu'ote", "\u00e9t\u00e9"],
            }
            for i in range(2)
        ]
        events = run_harness(request(tmp_path, steps, env={"FROM_JOB": "1"}))
        for i in range(2):
            seen = json.loads(output(events, f"b0-r{i}"))
            assert seen["env"]["PERFLAB_REPETITION"] == str(i)
            assert seen["env"]["HOME"] == "/nowhere" and seen["env"]["FROM_JOB"] == "1"
            assert seen["env"]["PATH"] == os.environ["PATH"]
            assert seen["argv"] == ["a b", "qu'ote", "\u00e9t\u00e9"]
            assert seen["own_group"] and not seen["dup"]

    def test_a_program_that_cannot_start(self, tmp_path: Path) -> None:
        """A program that does not exist, or is not executable: exit 127 / 126, the reason
        in the error and in the stderr log; the next step still runs."""
        script = tmp_path / "not-executable"
        script.write_text("echo hi\n")
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": "r1", "kind": "run", "argv": [str(tmp_path / "missing")]},
                    {"id": "r2", "kind": "run", "argv": [str(script)]},
                    {"id": "r3", "kind": "run", "argv": ["true"]},
                ],
            )
        )
        steps = steps_of(events)
        assert steps["r1"]["exit"] == 127 and "No such file" in steps["r1"]["error"]
        assert steps["r2"]["exit"] == 126 and "Permission denied" in steps["r2"]["error"]
        assert steps["r3"]["exit"] == 0
        assert "No such file" in output(events, "r1", "stderr")


class TestContentionEvidence:
    def test_every_measured_step_carries_its_windows_figures(self, tmp_path: Path) -> None:
        """Short repetitions share windows (their counts add up to the steps), a long one
        has its own; every measured step has others' and steal shares in [0, 1]; setup
        steps have none; the start event names the source."""
        steps = [{"id": "s1", "kind": "setup", "argv": ["true"]}]
        steps += [
            {"id": f"b0-r{i}", "kind": "run", "benchmark": 0, "argv": ["true"]} for i in range(40)
        ]
        steps.append({"id": "b1-r0", "kind": "run", "benchmark": 1, "shell": "sleep 0.2"})
        events = run_harness(request(tmp_path, steps))
        assert events[0]["contention"]["source"] in ("cpuacct", "proc_stat")
        got = steps_of(events)
        assert "other" not in got["s1"] and "window" not in got["s1"]
        short = [got[f"b0-r{i}"] for i in range(40)]
        for event in [*short, got["b1-r0"]]:
            assert 0.0 <= event["other"] <= 1.0 and 0.0 <= event["steal"] <= 1.0
            assert event["runnable"] is None or event["runnable"] >= 0
        assert got["b1-r0"]["window"] == 1
        windows: dict[int, int] = {}
        start = 0
        while start < len(short):  # consecutive runs of one window size cover the steps
            size = short[start]["window"]
            assert all(e["window"] == size for e in short[start : start + size])
            windows[size] = windows.get(size, 0) + 1
            start += size
        assert start == 40 and max(windows) > 1, "40 runs of `true` must share windows"

    def test_without_cpuacct_proc_stat_ticks_serve(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Where cgroup v1 cpuacct is not mounted, /proc/stat's ticks are read, in windows
        of at least 250 ms (a tick is 10 ms): a 0.3 s step has its own figures."""
        monkeypatch.setenv("PERFLAB_CONTENTION", "proc_stat")
        events = run_harness(
            request(
                tmp_path, [{"id": "b0-r0", "kind": "run", "benchmark": 0, "shell": "sleep 0.3"}]
            )
        )
        assert events[0]["contention"] == {"source": "proc_stat", "window_ns": 250_000_000}
        step = steps_of(events)["b0-r0"]
        assert 0.0 <= step["other"] <= 1.0 and step["window"] == 1

    def test_a_hog_on_the_steps_cpu_shows(self, tmp_path: Path) -> None:
        """A busy loop pinned to the benchmark's CPU takes a large share of it: the step's
        evidence says so (others >= 25%), and the benchmark was preempted."""
        cpu = max(os.sched_getaffinity(0))
        hog = subprocess.Popen(
            ["taskset", "-c", str(cpu), sys.executable, "-c", "while True: pass"],
            start_new_session=True,
        )
        try:
            time.sleep(0.2)
            code = "x = 0\nfor i in range(3_000_000): x += i"
            events = run_harness(
                request(
                    tmp_path,
                    [
                        {
                            "id": f"b0-r{i}",
                            "kind": "run",
                            "benchmark": 0,
                            "argv": [sys.executable, "-c", code],
                        }
                        for i in range(2)
                    ],
                    cpus=[cpu],
                )
            )
        finally:
            hog.kill()
            hog.wait(timeout=10)
        for event in steps_of(events).values():
            assert event["other"] >= 0.25, event
            assert event["nivcsw"] > 5, event


GNU_TIME = "/usr/bin/time"
TOUCH_200MB = "b = bytearray(200 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1"


class TestMaxRss:
    """max_rss is the step's own peak: compared with GNU time's ``%M`` (whose child starts
    from time's own ~1 MiB), within 10%.

    The same program's peak is not one number: 30 runs of ``time -f %M /bin/true`` on this
    VM gave 920-1108 KiB, in two modes about 1,000 and 1,080 KiB apart (address-space
    layout). A median of three on each side can fall in different modes (CI: 1,080 against
    964, 12% apart, both GNU time's own values). So ours must lie within 10% of the range
    GNU time itself reports for the program; the harness's peak (13 MiB for /bin/true) is
    far outside it either way."""

    SAMPLES = 5

    @staticmethod
    def gnu_time_kb(argv: list[str]) -> int:
        import subprocess

        done = subprocess.run(
            [GNU_TIME, "-f", "%M", *argv], capture_output=True, text=True, check=True
        )
        return int(done.stderr.strip().splitlines()[-1])

    @pytest.mark.parametrize("spawn_path", ["spawner"], indirect=True)  # the step's own peak
    @pytest.mark.parametrize(
        "argv", [["/bin/true"], [sys.executable, "-c", TOUCH_200MB]], ids=["true", "200MB"]
    )
    def test_max_rss_matches_gnu_time(
        self, tmp_path: Path, spawn_path: str, argv: list[str]
    ) -> None:
        if not Path(GNU_TIME).exists():
            pytest.skip("GNU time is not installed (apt-get install time)")
        if os.uname().machine != "x86_64":
            pytest.skip("the step's own peak needs the spawner (x86-64 Linux)")
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": f"b0-r{i}", "kind": "run", "benchmark": 0, "argv": argv}
                    for i in range(self.SAMPLES)
                ],
            )
        )
        ours = sorted(e["maxrss_kb"] for e in steps_of(events).values())[self.SAMPLES // 2]
        theirs = sorted(self.gnu_time_kb(argv) for _ in range(self.SAMPLES))
        assert 0.90 * theirs[0] <= ours <= 1.10 * theirs[-1], (ours, theirs)

    def test_the_other_paths_report_at_least_the_harness(
        self, tmp_path: Path, spawn_path: str
    ) -> None:
        """Why the spawner exists: spawned from the harness itself, /bin/true "uses" several
        MiB (the harness's peak); from the spawner, about 1 MiB."""
        events = run_harness(
            request(tmp_path, [{"id": "r1", "kind": "run", "argv": ["/bin/true"]}])
        )
        rss = steps_of(events)["r1"]["maxrss_kb"]
        if spawn_path == "spawner" and os.uname().machine == "x86_64":
            assert rss < 3 * 1024, rss
        else:
            assert rss > 5 * 1024, rss
