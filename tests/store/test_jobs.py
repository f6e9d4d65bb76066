"""Jobs, leases and fences in the store, on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.store import Store, open_store
from perflab.store.leases import Fence, LeaseLost


@pytest.fixture
def url(backend_url: str) -> str:
    return backend_url


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with open_store(url) as opened:
        yield opened


def submit(
    store: Store,
    name: str = "j",
    *,
    kind: str = "runner",
    target: str = "r1",
    priority: int = 0,
    retries: int = 1,
) -> str:
    store.jobs.put_bundle("b" * 64, job=name, spec={"job_yaml": "name: j"}, archive=b"x")
    return store.jobs.submit(
        name=name,
        bundle="b" * 64,
        target_kind=kind,
        target=target,
        options={},
        priority=priority,
        retries=retries,
        submitted_by="test",
    )


def add_run(store: Store, run_id: str) -> None:
    store.runs.create_run(
        run_id,
        job="j",
        job_sha256="0" * 64,
        job_spec={},
        runner="r1",
        status="running",
        perflab_version="t",
    )


class TestLease:
    def test_a_job_starts_once(self, store: Store) -> None:
        """The first lease starts the job; a repeated message, or another runner, cannot."""
        job = submit(store, kind="group", target="g")
        fence = store.jobs.lease(job, "r1", "w1", 60)
        assert fence is not None and fence.token == 1
        assert store.jobs.lease(job, "r1", "w2", 60) is None
        assert store.jobs.lease(job, "r2", "w2", 60) is None, "already started elsewhere"
        assert store.leases.get("r2") is None or store.leases.get("r2")["holder"] is None
        shown = store.jobs.get(job)
        assert shown["state"] == "leased" and shown["runner"] == "r1" and shown["attempt"] == 1

    def test_one_job_per_runner(self, store: Store) -> None:
        """A runner held for one job (or a direct run) cannot be leased for another."""
        first, second = submit(store), submit(store)
        fence = store.jobs.lease(first, "r1", "w1", 60)
        assert fence is not None
        assert store.jobs.lease(second, "r1", "w1", 60) is None
        assert store.jobs.get(second)["state"] == "queued"
        store.jobs.finish(fence, "done", exit_status=0)
        assert store.jobs.lease(second, "r1", "w1", 60) is not None
        assert store.leases.acquire("r1", "run x", 60) is None, "a direct run waits too"

    def test_expired_lease_is_taken_with_a_new_token(self, store: Store) -> None:
        """A holder that stops renewing loses the runner; the next holder's token is
        higher, and the old holder's heartbeat and release do nothing."""
        token = store.leases.acquire("r1", "run a", 0.01)
        time.sleep(0.05)
        newer = store.leases.acquire("r1", "run b", 60)
        assert token is not None and newer == token + 1
        assert store.leases.heartbeat("r1", token, 60) is False
        assert store.leases.release("r1", token) is False
        assert store.leases.get("r1")["holder"] == "run b"
        assert store.leases.release("r1", newer) is True


class TestDeadHolder:
    def test_a_dead_direct_runs_lease_is_taken_over(self, store: Store) -> None:
        """A direct run killed on this machine leaves its lease held until it expires; the
        next holder takes it over at once (its process is gone). A live holder's, or a
        queued job's, is never taken over."""
        from perflab import controller

        dead = {**controller.identity(), "pid": 2**22 + 12345, "start": "1"}
        token = store.leases.acquire("r1", "run a (pid dead)", 600, controller=dead)
        assert token is not None
        assert store.leases.acquire("r1", "run b", 600) is None
        assert store.leases.release_dead("r1", controller.is_gone)["holder"] == "run a (pid dead)"
        assert store.leases.acquire("r1", "run b", 600, controller=controller.identity())
        assert store.leases.release_dead("r1", controller.is_gone) is None, "alive"
        job = submit(store, target="r2")
        fence = store.jobs.lease(job, "r2", "w1", 600, controller=dead)
        assert fence is not None
        assert store.leases.release_dead("r2", controller.is_gone) is None, "a job's lease"


class TestFence:
    def test_a_stale_worker_cannot_write(self, store: Store) -> None:
        """After the lease expired and the job moved on, the old worker's run writes,
        transitions and finish all raise LeaseLost and change nothing."""
        job = submit(store)
        stale = store.jobs.lease(job, "r1", "w1", 0.01)
        assert stale is not None
        add_run(store, "run00001")
        fenced = store.fenced(stale)
        fenced.runs.add_repetitions("run00001", [{"step": "s", "kind": "run"}])
        time.sleep(0.05)
        after = store.jobs.requeue_or_fail("r1", stale.token, reason="worker_lost", message="lost")
        assert after is not None and after["state"] == "queued"
        fresh = store.jobs.lease(job, "r1", "w2", 60)
        assert fresh is not None and fresh.token > stale.token
        with pytest.raises(LeaseLost):
            fenced.runs.add_repetitions("run00001", [{"step": "s2", "kind": "run"}])
        with pytest.raises(LeaseLost):
            store.jobs.transition(stale, "running")
        with pytest.raises(LeaseLost):
            store.jobs.finish(stale, "done", exit_status=0)
        assert len(store.runs.get("run00001").repetitions) == 1
        assert (
            store.jobs.get(job)["state"] == "leased" and store.jobs.get(job)["token"] == fresh.token
        )

    def test_transitions_are_recorded(self, store: Store) -> None:
        """Every state change is an event with its time, worker, runner and token."""
        job = submit(store)
        fence = store.jobs.lease(job, "r1", "w1", 60)
        assert fence is not None
        for state in ("preparing", "running", "collecting"):
            store.jobs.transition(fence, state)
        store.jobs.add_run(fence, "run00002")
        store.jobs.finish(fence, "done", exit_status=0)
        shown = store.jobs.get(job)
        assert [e["state"] for e in shown["events"]] == [
            "queued",
            "leased",
            "preparing",
            "running",
            "collecting",
            "done",
        ]
        assert all(e["at"] for e in shown["events"]) and shown["run_ids"] == ["run00002"]
        assert shown["events"][-1]["worker"] == "w1" and shown["events"][-1]["token"] == 1
        assert store.leases.get("r1")["holder"] is None, "the runner is free again"

    def test_a_run_added_again_is_listed_once(self, store: Store) -> None:
        """A store call is retried when the database goes away, also one whose commit
        went through before the connection dropped: adding the same run again adds
        nothing (CI saw a job done with its run listed twice after a database cut)."""
        job = submit(store)
        fence = store.jobs.lease(job, "r1", "w1", 60)
        assert fence is not None
        store.jobs.add_run(fence, "run00003")
        store.jobs.add_run(fence, "run00003")
        store.jobs.add_run(fence, "run00004")
        assert store.jobs.get(job)["run_ids"] == ["run00003", "run00004"]


class TestLostAndRetried:
    def test_requeued_once_then_failed(self, store: Store) -> None:
        """A lost attempt is queued again while retries are left, then failed; a group
        job is not sent back to the runner that was lost."""
        job = submit(store, kind="group", target="g", retries=1)
        first = store.jobs.lease(job, "r1", "w1", 60)
        assert first is not None
        again = store.jobs.requeue_or_fail(
            "r1", first.token, reason="runner_unreachable", message="link down", exclude_runner=True
        )
        assert again is not None and again["state"] == "queued" and again["exclude"] == ["r1"]
        assert store.jobs.lease(job, "r1", "w1", 60) is None
        second = store.jobs.lease(job, "r2", "w1", 60)
        assert second is not None
        final = store.jobs.requeue_or_fail("r2", second.token, reason="worker_lost", message="gone")
        assert final is not None and final["state"] == "failed"
        assert final["reason"] == "worker_lost"

    def test_cancel_and_retry(self, store: Store) -> None:
        """Queued: cancelled at once. Running: asked to stop. Finished: exit 3. A
        cancelled job can be retried; a done one cannot."""
        queued = submit(store)
        assert store.jobs.cancel(queued)["state"] == "cancelled"
        with pytest.raises(InputError, match="cancelled already"):
            store.jobs.cancel(queued)
        assert store.jobs.retry(queued)["state"] == "queued"
        fence = store.jobs.lease(queued, "r1", "w1", 60)
        assert fence is not None
        asked = store.jobs.cancel(queued)
        assert asked["state"] == "leased" and asked["cancel_requested"]
        assert store.jobs.watch(fence)["cancel"] is True
        store.jobs.finish(fence, "done", exit_status=0)
        with pytest.raises(InputError, match="only a failed or cancelled"):
            store.jobs.retry(queued)

    def test_queued_for_runner_best_first(self, store: Store) -> None:
        """The jobs a runner can take: its own, its groups', its platform's; by priority,
        then age."""
        low = submit(store, target="r1")
        high = submit(store, kind="group", target="g", priority=5)
        other = submit(store, target="r9")
        plat = submit(store, kind="platform", target="linux-x86_64")
        found = [j["job_id"] for j in store.jobs.queued_for("r1", ["g"], "linux-x86_64")]
        assert found == [high, low, plat] and other not in found


RACE = textwrap.dedent("""
    import json, sys, time
    from perflab.store import open_store
    url, log, me = sys.argv[1], sys.argv[2], sys.argv[3]
    store = open_store(url)
    held = 0
    deadline = time.monotonic() + 8
    while held < 4 and time.monotonic() < deadline:
        token = store.leases.acquire("race", me, 30)
        if token is None:
            time.sleep(0.005)
            continue
        start = time.time()
        time.sleep(0.02)
        end = time.time()
        with open(log, "a") as handle:
            handle.write(json.dumps([me, token, start, end]) + "\\n")
        store.leases.release("race", token)
        held += 1
    store.close()
""")


class TestRace:
    def test_racing_processes_never_overlap(self, url: str, tmp_path: Path) -> None:
        """Four processes race for one runner: the times each held it never overlap, and
        every acquisition has a new token."""
        open_store(url).close()
        log = tmp_path / "held.jsonl"
        procs = [
            subprocess.Popen([sys.executable, "-c", RACE, url, str(log), f"p{i}"]) for i in range(4)
        ]
        assert all(p.wait(timeout=120) == 0 for p in procs)
        spans = sorted(json.loads(line) for line in log.read_text().splitlines())
        spans.sort(key=lambda s: s[2])
        assert len(spans) >= 8
        for before, after in itertools.pairwise(spans):
            assert before[3] <= after[2], f"{before} overlaps {after}"
        tokens = [s[1] for s in spans]
        assert sorted(tokens) == tokens and len(set(tokens)) == len(tokens)


def test_fence_is_a_plain_record() -> None:
    """A fence names the job, its token and runner (what every write checks)."""
    assert Fence("j", 3, "r") == Fence("j", 3, "r")
