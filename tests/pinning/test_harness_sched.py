"""The harness applies the scheduling to benchmark steps only, and refuses what the host won't."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perflab.hostside import source
from tests.execute.test_harness import output, request, run_harness, steps_of

STAT = "cat /proc/self/stat; grep 'Max realtime timeout' /proc/self/limits"
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # readable by every user (the harness needs 3.8+ only)


def stat_of(events: list[dict[str, Any]], sid: str) -> tuple[int, int, int, str]:
    """(nice, rt priority, policy, realtime limit line) a step saw for itself."""
    text = output(events, sid)
    fields = text[text.rfind(")") + 2 :].split()
    return int(fields[16]), int(fields[37]), int(fields[38]), text.splitlines()[-1]


class TestSched:
    def test_nice_skips_setup(self, tmp_path: Path) -> None:
        """Setup steps run at the harness's own nice value; probes and benchmarks at the job's."""
        base = os.getpriority(os.PRIO_PROCESS, 0)
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": "setup-1", "kind": "setup", "shell": STAT},
                    {"id": "probe-os-1", "kind": "probe", "shell": STAT},
                    {"id": "b0-r1", "kind": "run", "shell": STAT},
                ],
                sched={"policy": "other", "priority": 0, "nice": base + 3, "rttime_us": None},
            )
        )
        assert stat_of(events, "setup-1")[0] == base
        assert stat_of(events, "probe-os-1")[0] == base + 3
        assert stat_of(events, "b0-r1")[0] == base + 3

    @pytest.mark.skipif(os.geteuid() != 0, reason="real-time policies need root here")
    def test_realtime_with_its_limit(self, tmp_path: Path) -> None:
        """fifo:1 reaches the benchmark with RLIMIT_RTTIME; the setup step stays ordinary.
        (The steps only read /proc: nothing spins at real-time priority.)"""
        events = run_harness(
            request(
                tmp_path,
                [
                    {"id": "setup-1", "kind": "setup", "shell": STAT},
                    {"id": "b0-r1", "kind": "run", "shell": STAT},
                ],
                sched={"policy": "fifo", "priority": 1, "nice": None, "rttime_us": 200000},
            )
        )
        assert stat_of(events, "setup-1")[1:3] == (0, 0)
        _, prio, policy, limit = stat_of(events, "b0-r1")
        assert (prio, policy) == (1, 1) and limit.split()[3:5] == ["200000", "200000"]


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder another user may write to (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="perflab-test-sched-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def harness_as_nobody(folder: Path, sched: dict[str, Any]) -> list[dict[str, Any]]:
    req = {
        "workdir": str(folder),
        "rundir": str(folder / "out"),
        "env": {},
        "cpus": None,
        "job_timeout": None,
        "sched": sched,
        "steps": [{"id": "b0-r1", "kind": "run", "argv": ["true"]}],
    }
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", source("harness")],
        input=json.dumps(req),
        capture_output=True,
        text=True,
        user=NOBODY,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="needs root and a system python to start the harness as nobody",
)
class TestRefusal:
    @pytest.mark.parametrize(
        ("sched", "words"),
        [
            ({"policy": "other", "nice": -5, "field": "pin.nice"}, "nice -5"),
            (
                {"policy": "fifo", "priority": 10, "rttime_us": 100000, "field": "pin.policy"},
                "policy fifo:10",
            ),
        ],
    )
    def test_not_allowed(self, open_dir: Path, sched: dict[str, Any], words: str) -> None:
        """An unprivileged harness refuses a lower nice or a real-time policy: nothing runs."""
        events = harness_as_nobody(open_dir, sched)
        refused = [e for e in events if e["event"] == "refused"]
        assert refused and refused[0]["items"][0]["field"] == sched["field"]
        assert words in refused[0]["items"][0]["message"]
        assert steps_of(events) == {}

    def test_allowed(self, open_dir: Path) -> None:
        """A higher nice is every user's right: it runs."""
        events = harness_as_nobody(open_dir, {"policy": "other", "nice": 5})
        assert list(steps_of(events)) == ["b0-r1"]


class TestRequire:
    def test_missing_runtime(self, tmp_path: Path) -> None:
        """A required program that is not on PATH refuses the job before the setup steps."""
        need = {"program": "perflab-no-such-runtime", "field": "pin.runtime", "message": "m"}
        events = run_harness(
            request(
                tmp_path, [{"id": "setup-1", "kind": "setup", "argv": ["true"]}], require=[need]
            )
        )
        assert [e["event"] for e in events] == ["start", "refused", "done"]
        assert events[1]["items"] == [need]
