"""``perflab sweep add|list|show|run|history|remove`` and ``perflab beat``."""

from __future__ import annotations

import time
from typing import Any

import click

from perflab.cli.env import Env
from perflab.cli.helptext import json_option
from perflab.errors import ExitStatus

POLL_S = 1.0


@click.group()
def sweep() -> None:
    """Sweeps: a job (or job matrix) over platforms, now or on a schedule."""


def _app() -> Any:
    from perflab.queue.app import make_app
    from perflab.sweep.schedule import configure

    return configure(make_app())


@sweep.command()
@click.argument("name")
@click.option(
    "--job",
    "job_file",
    required=True,
    metavar="JOB.yaml",
    help="The job (or job matrix); frozen now, with its workdir.",
)
@click.option(
    "--targets",
    required=True,
    metavar="PLATFORMS_OR_GROUPS",
    help="Comma-separated platforms and groups (platform:NAME for a platform with "
    "no runner yet, group:NAME).",
)
@click.option("--cron", metavar='"M H DOM MON DOW"', help='When, as cron: "0 2 * * *".')
@click.option("--timezone", metavar="ZONE", help="The cron's time zone (default UTC).")
@click.option(
    "--every",
    type=float,
    metavar="SECONDS",
    help="Instead of --cron: every this many seconds (short cycles, tests).",
)
@click.option(
    "--baseline-policy",
    default="current",
    show_default=True,
    metavar="current|previous|none|name:BASELINE",
    help="What the report compares each platform's results with.",
)
@click.option(
    "--deadline",
    default=6 * 3600.0,
    show_default=True,
    type=click.FloatRange(1, 30 * 24 * 3600),
    metavar="SECONDS",
    help="How long a part waits for an idle runner of its platform.",
)
@click.option("--profile", help="Preparation playbook to apply around each run.")
@json_option("the sweep as stored")
@click.pass_obj
def add(
    env: Env,
    name: str,
    job_file: str,
    targets: str,
    cron: str | None,
    timezone: str | None,
    every: float | None,
    baseline_policy: str,
    deadline: float,
    profile: str | None,
    as_json: bool,
) -> None:
    """Define a sweep and schedule it.

    \b
    Examples:
      perflab sweep add nightly --job job.yaml --targets linux-x86_64,arm \\
          --cron "0 2 * * *" --timezone Europe/Berlin
      perflab sweep add smoke --job job.yaml --targets group:lab --every 600
    """
    from perflab.spec.job import load_job
    from perflab.spec.playbook import load_profile
    from perflab.store import open_store
    from perflab.sweep.define import SweepSpec
    from perflab.sweep.define import add as add_sweep

    job = load_job(job_file)
    ref = profile or job.profile
    spec = SweepSpec(
        name,
        job,
        targets,
        cron=cron,
        every=every,
        timezone=timezone,
        baseline_policy=baseline_policy,
        deadline_s=deadline,
        profile=load_profile(ref) if ref else None,
    )
    with open_store() as store:
        stored = add_sweep(store, _app(), spec)
    if as_json:
        env.print_json(stored)
        return
    from perflab.sweep.schedule import describe

    env.stdout.write(
        f"sweep {name}: {stored['job']} ({stored['matrix']} job"
        f"{'s' * (stored['matrix'] != 1)} per platform) on "
        f"{_targets(stored)}, {describe(stored['schedule'])}\n"
    )


def _targets(sweep: dict[str, Any]) -> str:
    return ", ".join(f"{t['kind']}:{t['name']}" for t in sweep["targets"])


@sweep.command("list")
@json_option("the sweeps")
@click.pass_obj
def list_(env: Env, as_json: bool) -> None:
    """Every sweep, with its schedule and its last sweep run."""
    from perflab.store import open_store
    from perflab.sweep.schedule import describe

    with open_store() as store:
        rows = store.sweeps.list()
    if as_json:
        env.print_json({"sweeps": rows})
        return
    if not rows:
        env.stdout.write("no sweeps\n")
    for row in rows:
        last = row["last_run"]
        seen = f"{last['sweep_run_id']} {last['state']}" if last else "never"
        env.stdout.write(
            f"{row['name']}  {row['job']}  {_targets(row)}  "
            f"{describe(row['schedule'])}  last: {seen}\n"
        )


@sweep.command()
@click.argument("name")
@json_option("the sweep, its schedule in Redis and its last sweep runs")
@click.pass_obj
def show(env: Env, name: str, as_json: bool) -> None:
    """A sweep: its job, targets, schedule (next time it fires) and last sweep runs."""
    from perflab.store import open_store
    from perflab.sweep.define import ping
    from perflab.sweep.schedule import describe, next_due

    with open_store() as store:
        doc = store.sweeps.get(name)
        doc["runs"] = store.sweeps.history(name, limit=5)
    app = _app()
    ping(app)
    doc["scheduled"] = next_due(app, name)
    if as_json:
        env.print_json(doc)
        return
    due = doc["scheduled"]
    env.stdout.write(
        f"sweep {name}: job {doc['job']} (bundle {doc['bundle'][:12]}, "
        f"{doc['matrix']} job{'s' * (doc['matrix'] != 1)} per platform)\n"
        f"  targets: {_targets(doc)}\n  schedule: {describe(doc['schedule'])}; "
        f"{'next ' + str(due['next']) if due else 'NOT in Redis'}\n"
        f"  baseline policy: {doc['baseline_policy']}; parts wait "
        f"{doc['deadline_s']:g} s for a runner\n"
    )
    for run in doc["runs"]:
        _render_run(env, run)


def _render_run(env: Env, run: dict[str, Any]) -> None:
    env.stdout.write(
        f"sweep run {run['sweep_run_id']} ({run['trigger']}, {run['started_at']}):"
        f" {run['state']}, {run['outcome']}\n"
    )
    for part in run["parts"]:
        cell = ",".join(f"{k}={v}" for k, v in part["matrix"].items())
        why = f" {part['reason']}: {part['message']}" if part["reason"] else ""
        runs = f" runs {' '.join(part['run_ids'])}" if part["run_ids"] else ""
        env.stdout.write(
            f"  {part['platform']}{f' [{cell}]' if cell else ''}: {part['state']}{why}{runs}\n"
        )


def _status(run: dict[str, Any]) -> ExitStatus:
    """0 every part ran, 2 one found a regression, 1 one failed or was skipped."""
    states = {p["state"] for p in run["parts"]}
    if states - {"ran"} or not states:
        return ExitStatus.ERROR
    if any(p["exit_status"] == ExitStatus.REGRESSION for p in run["parts"]):
        return ExitStatus.REGRESSION
    return ExitStatus.OK


@sweep.command()
@click.argument("name")
@click.option(
    "--wait",
    is_flag=True,
    help="Follow the sweep run until every part has ended; exit 0 when every "
    "part ran, 2 when one found a regression, 1 when one failed or was skipped.",
)
@json_option("the sweep run and its parts")
@click.pass_obj
def run(env: Env, name: str, wait: bool, as_json: bool) -> None:
    """Start a sweep run now (as its schedule would)."""
    from perflab.store import open_store
    from perflab.sweep.start import start_run

    with open_store() as store:
        run_id = start_run(store, _app(), name)
        assert run_id is not None
        doc = store.sweeps.run(run_id)
        while wait and doc["state"] != "finished":
            time.sleep(POLL_S)
            doc = store.sweeps.run(run_id)
    if as_json:
        env.print_json(doc)
    else:
        _render_run(env, doc)
    if wait and _status(doc) != ExitStatus.OK:
        env.fail(_status(doc))


@sweep.command()
@click.argument("name")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many sweep runs, newest first.",
)
@json_option("the sweep runs and their parts")
@click.pass_obj
def history(env: Env, name: str, limit: int, as_json: bool) -> None:
    """A sweep's runs, newest first: which platforms ran, failed or were skipped, and why."""
    from perflab.store import open_store

    with open_store() as store:
        runs = store.sweeps.history(name, limit=limit)
    if as_json:
        env.print_json({"sweep": name, "runs": runs})
        return
    if not runs:
        env.stdout.write(f"sweep {name} has not run yet\n")
    for item in runs:
        _render_run(env, item)


@sweep.command()
@click.argument("name")
@click.pass_obj
def remove(env: Env, name: str) -> None:
    """Unschedule a sweep and forget its definition (its sweep runs and runs stay)."""
    from perflab.store import open_store
    from perflab.sweep.define import remove as remove_sweep

    with open_store() as store:
        had = remove_sweep(store, _app(), name)
    env.stdout.write(f"sweep {name} removed{'' if had else ' (it had no schedule in Redis)'}\n")


@click.command()
@click.option(
    "--max-interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.5, 3600),
    metavar="SECONDS",
    help="Look at the schedules in Redis at least this often.",
)
@click.option(
    "--loglevel",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    help="How much the scheduler logs (each tick it sends, the leader lock).",
)
@click.pass_obj
def beat(env: Env, max_interval: float, loglevel: str) -> None:
    """Fire the sweeps' schedules (RedBeat: one leader among several beats).

    \b
    Example:
      perflab beat            # and `perflab worker ...` to run what it starts
    """
    from perflab.sweep.beat import start

    start(max_interval=max_interval, loglevel=loglevel)
