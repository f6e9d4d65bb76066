"""Sweep runs in the store: parts follow their jobs, a sweep run ends when none is
pending, a scheduler message starts one sweep run, and the parts name their runs (what a
report of a sweep run reads). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from perflab.errors import InputError
from perflab.store import Store, open_store


@pytest.fixture
def store(backend_url: str) -> Iterator[Store]:
    with open_store(backend_url) as opened:
        yield opened


def add_sweep(store: Store, name: str = "nightly") -> dict:
    store.jobs.put_bundle("b" * 64, job="j", spec={"job_yaml": "name: j"}, archive=b"x")
    return store.sweeps.add(
        name=name,
        job="j",
        bundle="b" * 64,
        targets=[{"kind": "platform", "name": "p1"}],
        schedule={"every": 5.0},
        baseline_policy="current",
        deadline_s=60.0,
        matrix=1,
        created_by="test",
    )


def queue_part(store: Store, run_id: str, platform: str) -> str:
    part = store.sweeps.add_part(
        run_id, platform=platform, target_kind="platform", target=platform, matrix={}
    )
    job_id = store.jobs.submit(
        name="j",
        bundle="b" * 64,
        target_kind="platform",
        target=platform,
        options={"sweep_run": run_id},
        submitted_by="test",
    )
    store.sweeps.set_part_job(part, job_id)
    return job_id


class TestSweepRuns:
    def test_parts_follow_their_jobs(self, store: Store) -> None:
        """A part runs while its job does; done is ran (with its runs), failed keeps the
        job's reason, skipped keeps its own; the sweep run finishes with the last one."""
        sweep = add_sweep(store)
        run_id = store.sweeps.start_run(sweep, trigger="manual")
        assert run_id is not None
        ok = queue_part(store, run_id, "p1")
        bad = queue_part(store, run_id, "p2")
        store.sweeps.add_part(
            run_id,
            platform="p3",
            target_kind="platform",
            target="p3",
            matrix={},
            state="skipped",
            reason="no_runner",
            message="no runner of platform p3 is registered",
        )
        assert store.sweeps.refresh_open() == [], "a starting sweep run is not closed"
        store.sweeps.running(run_id)
        fence = store.jobs.lease(ok, "r1", "w", 60)
        assert fence is not None
        store.runs.create_run(
            "run1",
            job="j",
            job_sha256="0" * 64,
            job_spec={},
            runner="r1",
            platform="p1",
            status="completed",
            perflab_version="t",
            job_id=ok,
            sweep_run_id=run_id,
        )
        assert store.sweeps.refresh_open() == []
        store.jobs.finish(fence, "done", exit_status=0)
        assert store.jobs.fail_queued(bad, reason="runner_busy", message="deadline passed")
        assert store.sweeps.refresh_open() == [run_id]
        doc = store.sweeps.run(run_id[:6])
        assert doc["state"] == "finished" and doc["outcome"] == "partial"
        parts = {p["platform"]: p for p in doc["parts"]}
        assert (parts["p1"]["state"], parts["p1"]["run_ids"]) == ("ran", ["run1"])
        assert (parts["p2"]["state"], parts["p2"]["reason"]) == ("failed", "runner_busy")
        assert (parts["p3"]["state"], parts["p3"]["reason"]) == ("skipped", "no_runner")
        assert store.runs.get("run1").to_dict()["sweep_run_id"] == run_id

    def test_one_sweep_run_per_message(self, store: Store) -> None:
        """A scheduler message delivered twice starts one sweep run."""
        sweep = add_sweep(store)
        assert store.sweeps.start_run(sweep, trigger="schedule", trigger_id="m1") is not None
        assert store.sweeps.start_run(sweep, trigger="schedule", trigger_id="m1") is None
        assert len(store.sweeps.history("nightly")) == 1

    def test_removed_sweep_keeps_its_history(self, store: Store) -> None:
        """remove forgets the definition, not its sweep runs; a second add of the name is
        refused while it exists."""
        sweep = add_sweep(store)
        with pytest.raises(InputError, match="exists already"):
            add_sweep(store)
        store.sweeps.start_run(sweep, trigger="manual")
        store.sweeps.remove("nightly")
        assert [s["name"] for s in store.sweeps.list()] == []
        assert len(store.sweeps.history("nightly")) == 1
        with pytest.raises(InputError, match='no sweep run "zzzz"'):
            store.sweeps.parts("zzzz")
