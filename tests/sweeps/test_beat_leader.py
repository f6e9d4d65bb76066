"""Several `perflab beat` processes: one leader sends the ticks; when it stops, another
takes over. Real beats and a redis-server of the test's own; no worker, so every tick
stays in the sweep queue, where the test counts them."""

from __future__ import annotations

import time
from pathlib import Path

from tests.jobqueue.conftest import Lab
from tests.sweeps.test_sweep_fleet import Beat

EVERY_S = 2.0


def ticks(lab: Lab) -> int:
    """Tick messages waiting in the sweep queue (kombu keeps a queue as Redis lists)."""
    import redis as redis_py

    client = redis_py.Redis.from_url(lab.redis.url)
    try:
        return sum(
            int(client.llen(key))
            for key in client.scan_iter("perflab.sweeps*")
            if client.type(key) == b"list"
        )
    finally:
        client.close()


def wait_ticks(lab: Lab, more_than: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ticks(lab)
        if found > more_than:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no tick past {more_than} within {timeout} s")


class TestOneLeader:
    def test_two_beats_one_leader_then_takeover(self, lab: Lab, tmp_path: Path) -> None:
        """With two beats running, an every-2-s sweep gets one tick per 2 s (not two);
        when the leader is stopped, the other beat takes the lock and the ticks go on."""
        job = tmp_path / "lj" / "job.yaml"
        job.parent.mkdir()
        job.write_text("name: lj\nbenchmarks: [{name: b, command: ['true'], format: time}]\n")
        added = lab.perflab(
            "sweep",
            "add",
            "lead",
            "--job",
            str(job),
            "--targets",
            "platform:linux-none",
            "--every",
            f"{EVERY_S:g}",
        )
        assert added.returncode == 0, added.stderr
        first = Beat(lab, "a")
        second = None
        try:
            wait_ticks(lab, 0, timeout=60)
            second = Beat(lab, "b")
            time.sleep(3)  # the second beat is up and waiting for the lock
            start, began = ticks(lab), time.monotonic()
            time.sleep(12)
            rate = (ticks(lab) - start) / (time.monotonic() - began)
            # one leader: 1 / EVERY_S ticks a second; two senders would make twice that
            assert 0.5 / EVERY_S <= rate <= 1.5 / EVERY_S, (
                f"{rate:.2f} ticks/s with two beats: expected one every {EVERY_S:g} s"
            )
            first.stop()
            after = ticks(lab)
            wait_ticks(lab, after, timeout=30)  # lock timeout 5 s, then the next tick
            assert second.proc.poll() is None
        finally:
            first.stop()
            if second is not None:
                second.stop()
        assert "beat: Acquiring lock..." in second.text()
        assert "Scheduler: Sending due task sweep:lead" in first.text()
        assert "Scheduler: Sending due task sweep:lead" in second.text()
