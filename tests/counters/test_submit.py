"""`perflab submit` to a group refuses a counting job no runner there can count."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.queue.submit import check_target, job_counters
from perflab.spec.job import parse_job
from perflab.store import open_store
from tests.counters.conftest import loop_job

CAN = {"valgrind": "3.19.0", "perf": {"found": True, "events": {"instructions": False}}}
LACKS = {"valgrind": None, "perf": {"found": False, "events": {}}}


class TestSubmitTarget:
    def test_a_group_must_hold_a_runner_that_counts(self, tmp_path: Path) -> None:
        """By the runners' stored facts: none that counts is exit 3 naming the counters; one
        is enough; a job that counts nothing goes anywhere."""
        job = parse_job(loop_job(tmp_path, counters="[instructions, cache]"), "job.yaml")
        assert job_counters(job) == ["cache", "instructions"]
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        try:
            store.runners.add("a", address="127.0.0.1", groups=["lab"])
            store.runners.set_facts("a", {"counting": LACKS})
            store.runners.add("b", address="127.0.0.2", groups=["lab"])  # facts never read
            with pytest.raises(InputError) as caught:
                check_target(store, "group", "lab", job_counters(job))
            assert caught.value.exit_status == 3
            assert 'in group "lab" that can count cache, instructions, got none (2 runners' in str(
                caught.value
            )
            check_target(store, "group", "lab", [])
            store.runners.set_facts("b", {"counting": CAN})
            check_target(store, "group", "lab", job_counters(job))
        finally:
            store.close()
