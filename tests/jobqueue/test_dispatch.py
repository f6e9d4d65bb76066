"""Messages are sent where they can start a job, not again and again: a backlog waiting
for busy runners is left in the broker, a lost message is sent again, a runner let go
points a message only at a job that has none (found by bench/dispatch: a thousand
queued jobs became thousands of messages that each found their job started)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.execute.lease import lease_key
from perflab.queue import reconcile
from perflab.queue.app import make_app, queue_depth, queue_name
from perflab.queue.work import Served, ServedRunner, handle
from perflab.queue.worker import publisher
from perflab.store import Store, open_store
from perflab.store.jobs import FINAL
from tests.jobqueue.conftest import Lab, Redis, write_job

LOCAL = queue_name("runner", "local")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as opened:
        yield opened


@pytest.fixture
def served(store: Store, redis: Redis) -> Iterator[Served]:
    """A worker's view (the local runner), publishing to the test's own Redis."""
    app = make_app(redis.url)
    yield Served(
        "w1", [ServedRunner("local")], publisher(app, lambda: store), depth=queue_depth(app)
    )


def queued(store: Store, served: Served, count: int, *, sent: bool = True) -> list[str]:
    """``count`` jobs for the local runner, each priority one less than the one before;
    ``sent``: a message points at each (in the broker), else none does."""
    store.jobs.put_bundle("b" * 64, job="j", spec={"job_yaml": "name: j"}, archive=None)
    ids = [
        store.jobs.submit(
            name=f"j{i}",
            bundle="b" * 64,
            target_kind="runner",
            target="local",
            options={},
            priority=-i,
            submitted_by="test",
        )
        for i in range(count)
    ]
    if sent:
        for job_id in ids:
            served.publish(store.jobs.get(job_id))
    return ids


def busy(store: Store) -> int:
    token = store.leases.acquire(lease_key("local"), "someone's run", 60)
    assert token is not None
    return token


class TestReconciler:
    def test_no_lease_is_taken_just_after_the_database_came_back(
        self, store: Store, served: Served, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """While the database is away nobody can renew a lease. A reconciler that was cut
        off itself leaves expired leases for one lease time after the database comes back
        (CI: a 3 s cut with 4 s leases, the reconciler got through before the holder's
        heartbeat and took a healthy job: it ran twice). Then it takes them as before."""
        import sqlalchemy.exc

        from perflab.store import retry

        monkeypatch.setattr(retry._outage, "back_at", None)
        monkeypatch.setattr(reconcile, "lease_ttl", lambda: 30.0)
        (job_id,) = queued(store, served, 1)
        fence = store.jobs.lease(job_id, lease_key("local"), "w1", 0.01)
        assert fence is not None
        time.sleep(0.05)  # the holder has not renewed: its lease has expired
        calls = []

        @retry.retrying
        def away_once() -> None:
            calls.append(1)
            if len(calls) == 1:
                raise sqlalchemy.exc.OperationalError(
                    "SELECT 1", {}, Exception("connection refused")
                )

        away_once()  # the database was away for this process, and came back
        assert len(calls) == 2 and retry.back_since() is not None
        assert reconcile.reconcile(store, served).requeued == []
        assert store.jobs.get(job_id)["state"] == "leased"
        monkeypatch.setattr(retry._outage, "back_at", time.monotonic() - 31.0)  # a lease time later
        assert reconcile.reconcile(store, served).requeued == [job_id]

    def test_a_backlog_behind_a_busy_runner_is_left_alone(
        self, store: Store, served: Served
    ) -> None:
        """Five jobs wait, their messages in the broker, the runner busy: none is sent
        again, however long they have waited (each round sent all five before)."""
        queued(store, served, 5)
        busy(store)
        assert served.depth(LOCAL) == 5
        for _ in range(3):
            summary = reconcile.reconcile(store, served, republish_after=0)
            assert summary.republished == []
        assert served.depth(LOCAL) == 5

    def test_an_idle_runner_gets_the_best_waiting_job(self, store: Store, served: Served) -> None:
        """The runner stays idle from one round to the next while jobs have waited long:
        the best of them (highest priority) gets one more message, not every one."""
        ids = queued(store, served, 4)
        assert reconcile.reconcile(store, served, republish_after=0).republished == []
        assert reconcile.reconcile(store, served, republish_after=0).republished == [ids[0]]
        assert served.depth(LOCAL) == 5

    def test_a_runner_idle_between_two_jobs_is_not_idle(self, store: Store, served: Served) -> None:
        """A round sees the runner idle, then a job takes it and ends before the next
        round: the runner is working through the backlog, nothing is sent again."""
        ids = queued(store, served, 3)
        assert reconcile.reconcile(store, served, republish_after=0).republished == []
        fence = store.jobs.lease(ids[0], lease_key("local"), "w1", 60)
        assert fence is not None
        store.jobs.finish(fence, "done", exit_status=0)
        assert reconcile.reconcile(store, served, republish_after=0).republished == []

    def test_lost_messages_are_sent_again(self, store: Store, served: Served, redis: Redis) -> None:
        """Redis restarted without its data: the queue holds no message for jobs whose
        messages went out, so all of them are sent again, even with the runner busy."""
        ids = queued(store, served, 3)
        redis.restart()  # no persistence: the messages are gone
        assert served.depth(LOCAL) == 0
        busy(store)
        summary = reconcile.reconcile(store, served, republish_after=0)
        assert sorted(summary.republished) == sorted(ids)
        assert served.depth(LOCAL) == 3

    def test_a_job_whose_message_was_taken_waits_for_a_free_runner(
        self, store: Store, served: Served
    ) -> None:
        """A worker took the message while the runner was busy: the job has none now
        (and the reconciler sends none while the runner stays busy); once the runner has
        stayed idle from one round to the next, the reconciler sends one."""
        token = busy(store)
        (job_id,) = queued(store, served, 1)
        assert handle(job_id, served, store) == "waiting for a runner"
        assert store.jobs.get(job_id)["enqueued_at"] is None
        assert reconcile.reconcile(store, served, republish_after=0).republished == []
        store.leases.release(lease_key("local"), token)
        assert reconcile.reconcile(store, served, republish_after=0).republished == []
        assert reconcile.reconcile(store, served, republish_after=0).republished == [job_id]
        assert store.jobs.get(job_id)["enqueued_at"] is not None


class TestWorkers:
    @pytest.mark.slow
    def test_a_group_backlog_runs_without_extra_messages(self, lab: Lab, tmp_path: Path) -> None:
        """Ten jobs for a group of two runners (this machine by two names, each with its
        own host lock), one worker: all done, and the worker took hardly a message that
        found its job started already (a runner let go used to send three more)."""
        from perflab.queue.submit import Submission, submit
        from perflab.spec.job import load_job

        for name in ("dq1", "dq2"):
            added = lab.perflab(
                "runner",
                "add",
                name,
                "--group",
                "dq",
                "--var",
                "ansible_connection=local",
                "--var",
                f"perflab_state_dir={tmp_path / name}",
                "--var",
                f"perflab_name_prefix={lab.env['PERFLAB_PREFIX']}{name}",
            )
            assert added.returncode == 0, added.stderr
        lab.worker("--runner", "dq1", "--runner", "dq2")
        job = load_job(str(write_job(tmp_path, "g", "[sh, -c, 'sleep 0.1']", runs=1)))
        with open_store(f"sqlite:///{lab.home / 'perflab.db'}") as store:
            app = make_app(lab.redis.url)
            ids = [submit(store, app, Submission(job, "group", "dq")) for _ in range(10)]
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and any(
                store.jobs.get(j)["state"] not in FINAL for j in ids
            ):
                time.sleep(0.2)
            states = [store.jobs.get(j)["state"] for j in ids]
        assert states == ["done"] * 10, lab.logs()[-3000:]
        outcomes = re.findall(r"job [0-9a-f]+: ([a-z ]+)", lab.logs())
        assert outcomes.count("done") == 10
        assert outcomes.count("nothing to do") <= 2, outcomes
