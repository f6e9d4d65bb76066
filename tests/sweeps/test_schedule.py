"""Schedules: cron in a time zone across daylight saving time, kept in Redis by RedBeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from perflab.sweep import schedule


def _next(spec: str, zone: str, now: datetime) -> datetime:
    """When a ZonedCrontab fires next after ``now`` (UTC)."""
    cron = schedule.ZonedCrontab.of(spec, zone)
    cron.now = lambda: now.astimezone(cron.tz)  # type: ignore[method-assign]
    return (now + cron.remaining_estimate(now - timedelta(minutes=1))).astimezone(UTC)


class TestZonedCrontab:
    def test_two_in_berlin_winter_and_summer(self) -> None:
        """0 2 * * * in Europe/Berlin is 01:00 UTC in winter and 00:00 UTC in summer."""
        assert _next(
            "0 2 * * *", "Europe/Berlin", datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
        ) == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
        assert _next(
            "0 2 * * *", "Europe/Berlin", datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
        ) == datetime(2026, 7, 2, 0, 0, tzinfo=UTC)

    def test_utc(self) -> None:
        """In UTC the crontab is Celery's own."""
        assert _next("30 4 * * *", "UTC", datetime(2026, 12, 2, 1, 0, tzinfo=UTC)) == datetime(
            2026, 12, 2, 4, 30, tzinfo=UTC
        )


@pytest.fixture
def app(redis):
    from perflab.queue.app import make_app

    return schedule.configure(make_app(redis.url), max_interval=1)


class TestRedBeatEntries:
    def test_saved_entry_keeps_its_zone(self, app) -> None:
        """A cron sweep's entry in Redis comes back as a crontab in its time zone, with its
        tick task, queue and sweep name; it is due within a day; deleted, it is gone."""
        from perflab.sweep.schedule import SweepEntry

        schedule.save(app, "nightly", {"cron": "0 2 * * *", "timezone": "Europe/Berlin"})
        key = SweepEntry.generate_key(app, schedule.entry_name("nightly"))
        entry = SweepEntry.from_key(key, app=app)
        assert isinstance(entry.schedule, schedule.ZonedCrontab)
        assert entry.schedule.zone == "Europe/Berlin"
        assert entry.task == schedule.TICK and entry.args == ["nightly"]
        assert entry.options["queue"] == schedule.SWEEP_QUEUE
        due = schedule.next_due(app, "nightly")
        assert due is not None
        assert schedule.delete(app, "nightly") is True
        assert schedule.next_due(app, "nightly") is None
        assert schedule.delete(app, "nightly") is False

    def test_interval_entry(self, app) -> None:
        """An --every sweep is an interval schedule of that many seconds."""
        from celery.schedules import schedule as interval

        from perflab.sweep.schedule import SweepEntry

        schedule.save(app, "often", {"every": 3.0})
        entry = SweepEntry.from_key(SweepEntry.generate_key(app, "sweep:often"), app=app)
        assert isinstance(entry.schedule, interval)
        assert entry.schedule.run_every == timedelta(seconds=3)
