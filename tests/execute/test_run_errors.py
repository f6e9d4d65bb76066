"""A run that an error stops outside the harness ends failed with the reason, never "running"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perflab.errors import HostError
from perflab.execute.flow import run_job
from perflab.spec.job import parse_job
from perflab.store import Store, open_store
from perflab.transport.local import LocalTransport

JOB = """\
name: broken
workdir: {workdir}
benchmarks: [{{name: b, command: [/bin/true], format: time}}]
repetitions: {{warmup: 0, runs: 3}}
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("PERFLAB_HOME", str(tmp_path / "home"))
    opened = open_store()
    try:
        yield opened
    finally:
        opened.close()


def job(tmp_path: Path) -> Any:
    return parse_job(JOB.format(workdir=tmp_path), "broken.yaml")


class HarnessWontStart(LocalTransport):
    """The runner goes away just as the harness would start."""

    def start(self, command: Any, **kwargs: Any) -> Any:
        raise HostError(self.name, "connection lost: No route to host")


class BreaksAfterCreation(LocalTransport):
    """Something outside the harness fails once the run's row exists."""

    def keep_controller_off(self, cpus: Any) -> Any:
        raise RuntimeError("controller placement failed")


class TestStoppedRuns:
    def test_lost_before_the_harness_starts(self, tmp_path: Path, store: Store) -> None:
        """The runner lost as the harness starts: the run ends failed, saying so."""
        outcome = run_job(job(tmp_path), HarnessWontStart(), store)
        assert outcome.status == "failed"
        row = store.runs.get(outcome.run_id)
        assert row.fields["status"] == "failed"
        assert "No route to host" in row.fields["message"]

    def test_unexpected_error_ends_the_run_failed(self, tmp_path: Path, store: Store) -> None:
        """An error the runner did not expect: raised, and the row ends failed with it and
        the run folder keeps the reason."""
        with pytest.raises(RuntimeError, match="controller placement failed"):
            run_job(job(tmp_path), BreaksAfterCreation(), store)
        [listed] = store.runs.list()
        run = store.runs.get(listed["run_id"])
        assert run.fields["status"] == "failed"
        assert "controller placement failed" in run.fields["message"]
        error = Path(run.fields["raw_dir"]) / "error.txt"
        assert error.read_text().strip() == run.fields["message"]

    def test_a_stopped_run_keeps_its_files(self, tmp_path: Path, store: Store) -> None:
        """A run stopped by an error still puts its folder into the store, with the
        reason (error.txt): readable where the folder is not."""
        with pytest.raises(RuntimeError):
            run_job(job(tmp_path), BreaksAfterCreation(), store)
        [listed] = store.runs.list()
        run = store.runs.get(listed["run_id"])
        names = {f["name"] for f in store.runs.files(run.id)}
        assert {"error.txt", "environment.json", "request.json"} <= names
        stored = store.runs.read_file(run.id, "error.txt").data.decode()
        assert stored.strip() == run.fields["message"]
