"""Many processes opening one store at once, and runs whose controller died."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from perflab import controller
from perflab.store import open_store

OPEN = "import sys; from perflab.store import open_store; open_store(sys.argv[1]).close()"


def open_at_once(url: str, count: int = 6) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    return [
        subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in procs
    ]


def dead_controller() -> dict:
    """The identity of a process that has ended (a child started and reaped here)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {**controller.identity(), "pid": int(child.stdout), "start": "1"}


def add_run(store, run_id: str, ctl: dict | None, status: str = "running") -> None:
    store.runs.create_run(
        run_id,
        job="j",
        job_sha256="0" * 64,
        job_spec={"name": "j"},
        runner="local",
        status=status,
        perflab_version="t",
        controller=ctl,
    )


class TestOpenAtOnce:
    def test_fresh_sqlite(self, tmp_path: Path) -> None:
        """Six processes open a database that does not exist yet: one creates the schema,
        the others wait for it; none fails with "table runs already exists"."""
        results = open_at_once(f"sqlite:///{tmp_path / 'new.db'}")
        assert [r.returncode for r in results] == [0] * 6, [r.stderr for r in results]

    def test_fresh_postgres(self, pg_url: str) -> None:
        """The same on PostgreSQL (an advisory lock around the schema)."""
        results = open_at_once(pg_url)
        assert [r.returncode for r in results] == [0] * 6, [r.stderr for r in results]


class TestControllerLost:
    @pytest.mark.parametrize("backend", ["sqlite", "postgres"])
    def test_dead_controllers_runs_are_closed(
        self, backend: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        """Opening the store closes runs left "running" by a dead controller of this
        machine as failed; a live controller's, another machine's, finished runs and
        rows without a controller are left alone."""
        url = (
            request.getfixturevalue("pg_url")
            if backend == "postgres"
            else f"sqlite:///{tmp_path / 'runs.db'}"
        )
        store = open_store(url)
        try:
            add_run(store, "dead0001", dead_controller())
            add_run(store, "live0001", controller.identity())
            add_run(store, "away0001", {**dead_controller(), "host": "elsewhere.example"})
            add_run(store, "done0001", dead_controller(), status="completed")
            add_run(store, "anon0001", None)
        finally:
            store.close()
        store = open_store(url)
        try:
            status = {
                r: store.runs.get(r).status
                for r in ("dead0001", "live0001", "away0001", "done0001", "anon0001")
            }
            message = store.runs.get("dead0001").fields["message"]
            finished = store.runs.get("dead0001").finished_at
        finally:
            store.close()
        assert status == {
            "dead0001": "failed",
            "live0001": "running",
            "away0001": "running",
            "done0001": "completed",
            "anon0001": "running",
        }
        assert message.startswith("controller lost: perflab (pid ") and finished is not None


class TestIsGone:
    def test_this_process_is_alive(self) -> None:
        """The running process is never judged gone."""
        assert controller.is_gone(controller.identity()) is False

    def test_an_ended_process_is_gone(self) -> None:
        """A pid that no longer exists on this machine: gone."""
        assert controller.is_gone(dead_controller()) is True

    def test_a_reused_pid_is_gone(self) -> None:
        """A live pid with another start time is another process: the controller is gone."""
        me = controller.identity()
        assert controller.is_gone({**me, "start": str(int(me["start"]) + 1)}) is True

    def test_another_boot_is_gone(self) -> None:
        """This machine rebooted since the controller recorded itself: gone."""
        assert controller.is_gone({**controller.identity(), "boot": "another-boot"}) is True

    def test_another_machine_cannot_be_judged(self) -> None:
        """A controller on another host (a shared database) is never judged from here."""
        assert controller.is_gone({**dead_controller(), "host": "elsewhere.example"}) is False
        assert controller.is_gone(None) is False
        assert controller.is_gone({"host": os.uname().nodename}) is False
