"""perflab.report.logs: a run's log text from the store (what `perflab jobs logs` prints)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.execute.flow import run_job
from perflab.report.logs import log_parts, run_log
from perflab.spec.job import parse_job
from perflab.store import Store, open_store
from perflab.transport.local import LocalTransport

PYTHON = json.dumps(sys.executable)
JOB = f"""\
name: logs
workdir: {{workdir}}
benchmarks:
  - name: a
    command: [{PYTHON}, -c, "import os, sys; r = os.environ['PERFLAB_REPETITION']; \
print('a out', r); print('a err', r, file=sys.stderr)"]
    format: time
  - name: b
    command: [{PYTHON}, -c, "import os; print('b out', os.environ['PERFLAB_REPETITION'])"]
    format: time
repetitions: {{{{warmup: 0, runs: 2}}}}
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("PERFLAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PERFLAB_DB_URL", raising=False)
    with open_store() as opened:
        yield opened


class TestRunLog:
    def test_steps_in_the_order_they_ran(self, tmp_path: Path, store: Store) -> None:
        """With the run folder gone: harness.log, then each step's stdout and stderr in
        the order the steps ran, each under a header; empty files left out."""
        job = parse_job(JOB.format(workdir=tmp_path), str(tmp_path / "logs.yaml"))
        outcome = run_job(job, LocalTransport(), store)
        assert outcome.status == "completed", outcome.message
        shutil.rmtree(outcome.raw_dir)
        steps = [r["step"] for r in store.runs.get(outcome.run_id).repetitions]
        expected = []
        for step in steps:
            bench, rep = ("a", step[-1]) if step.startswith("b0") else ("b", step[-1])
            expected.append(f"==> steps/{step}.stdout <==\n{bench} out {rep}\n")
            if bench == "a":
                expected.append(f"==> steps/{step}.stderr <==\na err {rep}\n")
        assert run_log(store, outcome.run_id) == "".join(expected)
        names = [p.name for p in log_parts(store, outcome.run_id)]
        assert names[0] == "harness.log"

    def test_a_truncated_file_says_so(
        self, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A file the store kept only part of is marked in its header."""
        monkeypatch.setenv("PERFLAB_FILE_MAX_BYTES", "6")
        job = parse_job(JOB.format(workdir=tmp_path), str(tmp_path / "logs.yaml"))
        outcome = run_job(job, LocalTransport(), store)
        text = run_log(store, outcome.run_id)
        assert (
            "==> steps/b0-r1.stdout <== (truncated: the first and last part of 8 bytes)"
            "\na o\n[perflab: 2 of 8 bytes cut here]\n 1\n"
        ) in text
