"""``perflab sweep add`` and ``sweep remove``: a sweep's definition in the store, its
schedule in Redis.

Everything is checked before anything is stored: the name, the schedule (cron
and time zone, or interval), the job file (frozen into a bundle now: the sweep
runs what was added, whatever happens to the file later), the targets and the
baseline policy; then Redis is reached, the definition stored and the RedBeat
entry written (the definition is taken back if that fails).
"""

from __future__ import annotations

import getpass
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError
from perflab.queue.bundle import freeze
from perflab.queue.submit import DEFAULT_DEADLINE_S, broker_error
from perflab.sweep import schedule
from perflab.sweep.targets import parse_targets

if TYPE_CHECKING:
    from celery import Celery

    from perflab.spec.job import Job
    from perflab.spec.playbook import Profile
    from perflab.store import Store

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: how a sweep run's report compares each platform's part (read by the report)
POLICIES = ("current", "previous", "none")


@dataclass(frozen=True)
class SweepSpec:
    """What ``sweep add`` was given, parsed."""

    name: str
    job: Job
    targets: str
    cron: str | None = None
    every: float | None = None
    timezone: str | None = None
    baseline_policy: str = "current"
    deadline_s: float = DEFAULT_DEADLINE_S
    profile: Profile | None = None


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InputError(
            f"expected a sweep name of letters, digits, '_', '.', '-', got \"{name}\"", field="NAME"
        )
    return name


def check_policy(text: str) -> str:
    """``current`` (each platform's current baseline of the job), ``previous`` (the same
    platform's part of the previous sweep run), ``none``, or ``name:BASELINE``."""
    if text in POLICIES or (text.startswith("name:") and len(text) > len("name:")):
        return text
    raise InputError(
        f'expected a baseline policy ({", ".join(POLICIES)} or name:BASELINE), got "{text}"',
        field="--baseline-policy",
    )


def ping(app: Celery) -> None:
    """Redis, where the schedules live, answers (exit 1 otherwise)."""
    from redbeat.schedulers import get_redis

    try:
        get_redis(app).ping()
    except Exception as exc:
        raise broker_error(app.conf.broker_url, exc) from None


def add(store: Store, app: Celery, spec: SweepSpec) -> dict[str, Any]:
    """Check, freeze, store and schedule a sweep; its definition as stored."""
    from perflab.spec.matrix import count

    check_name(spec.name)
    when = schedule.parse_schedule(spec.cron, spec.every, spec.timezone)
    policy = check_policy(spec.baseline_policy)
    targets = parse_targets(store, spec.targets)
    bundle = freeze(spec.job, spec.profile)
    ping(app)
    store.jobs.put_bundle(
        bundle.sha256, job=spec.job.name, spec=bundle.spec, archive=bundle.archive
    )
    stored = store.sweeps.add(
        name=spec.name,
        job=spec.job.name,
        bundle=bundle.sha256,
        targets=targets,
        schedule=when,
        baseline_policy=policy,
        deadline_s=spec.deadline_s,
        matrix=count(spec.job.raw),
        created_by=f"{getpass.getuser()}@{socket.gethostname()}",
    )
    try:
        schedule.save(app, spec.name, when)
    except BaseException:
        store.sweeps.remove(spec.name)
        raise
    return stored


def remove(store: Store, app: Celery, name: str) -> bool:
    """The schedule out of Redis, the definition out of the store (its sweep runs stay);
    True when Redis held a schedule for it."""
    store.sweeps.get(name)
    ping(app)
    had = schedule.delete(app, name)
    store.sweeps.remove(name)
    return had
