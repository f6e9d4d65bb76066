"""Sweep schedules: kept in Redis by celery-redbeat, fired by ``perflab beat``.

A schedule is a cron expression in a time zone (``0 2 * * *``,
``Europe/Berlin``), parsed by Celery's own parser (``crontab.from_string``,
what RedBeat stores and evaluates), or an interval in seconds (``--every``, for
short cycles and tests: cron cannot say "every 5 seconds"). Each sweep is one
RedBeat entry (``perflab:redbeat:sweep:<name>``) whose task is a tick that a
worker turns into a sweep run.

RedBeat stores a crontab without a time zone and evaluates it in the beat's
own (UTC here), so the zone travels in the entry's kwargs and :class:`SweepEntry`
rebuilds a :class:`ZonedCrontab` from it: "02:00 in Berlin" stays 02:00 across
daylight saving time. Several ``perflab beat`` processes may run; RedBeat's lock
in Redis makes one of them the leader, the others wait to take over.
"""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery.schedules import crontab, schedule
from redbeat.schedulers import RedBeatScheduler, RedBeatSchedulerEntry

from perflab.errors import InputError

if TYPE_CHECKING:
    from celery import Celery

TICK = "perflab.sweep_tick"
SWEEP_QUEUE = "perflab.sweeps"
KEY_PREFIX = "perflab:redbeat:"
ENTRY_PREFIX = "sweep:"
#: a tick nobody took within this long is dropped (a worker down for a night does not
#: start a burst of sweep runs when it comes back)
TICK_EXPIRES_S = 3600.0


def parse_cron(text: str) -> crontab:
    """A five-field cron expression (minute hour day-of-month month day-of-week), parsed by
    Celery's crontab parser; exit 3 when it is not one."""
    fields = text.split()
    if len(fields) != 5:
        raise InputError(
            f"expected a cron expression of 5 fields (minute hour day-of-month "
            f'month day-of-week, like "0 2 * * *"), got {len(fields)}: "{text}"',
            field="--cron",
        )
    try:
        return crontab.from_string(" ".join(fields))
    except (ValueError, KeyError, IndexError) as exc:
        raise InputError(
            f'expected a cron expression like "0 2 * * *", got "{text}": {exc}', field="--cron"
        ) from None


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone (``Europe/Berlin``, ``UTC``); exit 3 otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(
            f'expected an IANA time zone like "Europe/Berlin" or "UTC", got "{name}"',
            field="--timezone",
        ) from None


def parse_schedule(cron: str | None, every: float | None, timezone: str | None) -> dict[str, Any]:
    """What a sweep stores: ``{"cron": ..., "timezone": ...}`` or ``{"every": seconds}``."""
    if (cron is None) == (every is None):
        raise InputError(
            "give the sweep a schedule: --cron EXPR (with --timezone) or --every SECONDS",
            field="--cron",
        )
    if every is not None:
        if timezone is not None:
            raise InputError("--timezone applies to --cron, not to --every", field="--timezone")
        if not math.isfinite(every) or every < 1:
            raise InputError(
                f"expected --every of at least 1 second, got {every:g}", field="--every"
            )
        return {"every": float(every)}
    zone = timezone or "UTC"
    parse_timezone(zone)
    assert cron is not None
    parse_cron(cron)
    return {"cron": " ".join(cron.split()), "timezone": zone}


def describe(spec: dict[str, Any]) -> str:
    if "every" in spec:
        return f"every {spec['every']:g} s"
    return f'cron "{spec["cron"]}" {spec["timezone"]}'


class ZonedCrontab(crontab):
    """A crontab evaluated in its own time zone, not the scheduler's."""

    def __init__(self, *args: Any, zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.zone)

    def now(self) -> datetime:
        return datetime.now(ZoneInfo(self.zone))

    @classmethod
    def of(cls, spec: str, zone: str) -> ZonedCrontab:
        minute, hour, day_of_month, month_of_year, day_of_week = spec.split()
        return cls(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
            zone=zone,
        )


def celery_schedule(spec: dict[str, Any]) -> Any:
    """The Celery schedule of a stored sweep schedule."""
    if "every" in spec:
        return schedule(run_every=float(spec["every"]))
    return ZonedCrontab.of(spec["cron"], spec["timezone"])


class SweepEntry(RedBeatSchedulerEntry):
    """A RedBeat entry whose crontab keeps its time zone (carried in the kwargs)."""

    @staticmethod
    def decode_definition(definition: Any) -> Any:
        data = RedBeatSchedulerEntry.decode_definition(definition)
        zone = (data.get("kwargs") or {}).get("timezone")
        found = data.get("schedule")
        if zone and isinstance(found, crontab) and not isinstance(found, ZonedCrontab):
            data["schedule"] = ZonedCrontab(
                minute=found._orig_minute,
                hour=found._orig_hour,
                day_of_month=found._orig_day_of_month,
                month_of_year=found._orig_month_of_year,
                day_of_week=found._orig_day_of_week,
                zone=zone,
            )
        return data


class Scheduler(RedBeatScheduler):
    """RedBeat's scheduler with :class:`SweepEntry` (``perflab beat`` runs it)."""

    Entry = SweepEntry


def configure(app: Celery, *, max_interval: float = 30.0) -> Celery:
    """RedBeat's settings on ``app``: the broker's Redis, perflab's keys, a loop that
    looks at Redis at least every ``max_interval`` seconds (a sweep added meanwhile is
    seen), and a leader lock that another beat takes over after 5 loops."""
    app.conf.update(
        redbeat_redis_url=app.conf.broker_url,
        redbeat_key_prefix=KEY_PREFIX,
        redbeat_redis_options={"socket_connect_timeout": 5, "socket_timeout": 30},
        redbeat_lock_timeout=max(5 * max_interval, 5.0),
        beat_max_loop_interval=max_interval,
        timezone="UTC",
        enable_utc=True,
    )
    return app


def entry_name(sweep: str) -> str:
    return f"{ENTRY_PREFIX}{sweep}"


def save(app: Celery, sweep: str, spec: dict[str, Any]) -> None:
    """Put (or replace) the sweep's entry in Redis."""
    kwargs = {"timezone": spec["timezone"]} if "timezone" in spec else {}
    expires = TICK_EXPIRES_S if "cron" in spec else max(float(spec["every"]), 10.0)
    SweepEntry(
        entry_name(sweep),
        TICK,
        celery_schedule(spec),
        args=[sweep],
        kwargs=kwargs,
        options={"queue": SWEEP_QUEUE, "expires": expires},
        app=app,
    ).save()


def delete(app: Celery, sweep: str) -> bool:
    """Take the sweep's entry out of Redis; False when it was not there."""
    key = SweepEntry.generate_key(app, entry_name(sweep))
    try:
        entry = SweepEntry.from_key(key, app=app)
    except KeyError:
        return False
    entry.delete()
    return True


def next_due(app: Celery, sweep: str) -> dict[str, Any] | None:
    """When the sweep's entry fires next and last fired (UTC, ISO), or None when Redis
    holds no entry for it."""
    key = SweepEntry.generate_key(app, entry_name(sweep))
    try:
        entry = SweepEntry.from_key(key, app=app)
    except KeyError:
        return None
    due = entry.due_at
    last = entry.last_run_at
    return {
        "next": due.isoformat() if due is not None else None,
        "last": last.isoformat() if last is not None else None,
    }
