"""``perflab jobs list|show|logs|cancel|retry``: the queue's jobs, from the store."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from perflab.cli.env import Env
from perflab.cli.helptext import json_option
from perflab.errors import ExitStatus, PerflabError
from perflab.store.states import FINAL, STATES

if TYPE_CHECKING:
    from perflab.report.jobs import JobLog
    from perflab.store import Store

POLL_S = 0.5


@click.group()
def jobs() -> None:
    """Submitted jobs: list, show, follow their logs, cancel, retry."""


@jobs.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(STATES),
    help="Only jobs in this state (repeatable).",
)
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="At most this many jobs, newest first.",
)
@json_option("the jobs")
@click.pass_obj
def list_(env: Env, states: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Newest jobs first."""
    from perflab.store import open_store

    with open_store() as store:
        rows = store.jobs.list(states=states, limit=limit)
    if as_json:
        env.print_json({"jobs": rows})
        return
    from perflab.report.jobs import jobs_table

    env.console().print(jobs_table(rows) if rows else "no jobs")


@jobs.command()
@click.argument("job_ref", metavar="ID")
@json_option("the job, with its transitions")
@click.pass_obj
def show(env: Env, job_ref: str, as_json: bool) -> None:
    """One job: its state, target, runner, attempts, runs and every transition."""
    from perflab.store import open_store

    with open_store() as store:
        job = store.jobs.get(job_ref)
    if as_json:
        env.print_json(job)
        return
    from perflab.report.jobs import render_job

    render_job(env.console(), job)


@jobs.command()
@click.argument("job_ref", metavar="ID")
@click.option(
    "--follow", "-f", "keep_going", is_flag=True, help="Keep printing until the job ends."
)
@click.pass_obj
def logs(env: Env, job_ref: str, keep_going: bool) -> None:
    """The job's transitions and its runs' repetitions, as they happen with --follow; then
    each finished run's logs (the harness's, every step's stdout and stderr), read from
    the store on any machine that shares it."""
    from perflab.report.logs import run_log
    from perflab.store import open_store

    follow(env, job_ref, as_json=False, exit_with_job=False, keep_going=keep_going)
    with open_store() as store:
        job = store.jobs.get(job_ref)
        for run_id in job["run_ids"]:
            if store.runs.get(run_id).status == "running":
                continue  # its files reach the store when it ends
            text = run_log(store, run_id)
            if text:
                env.stdout.write(f"--- run {run_id} ---\n{text}")


@jobs.command()
@click.argument("job_ref", metavar="ID")
@json_option("the job after the request")
@click.pass_obj
def cancel(env: Env, job_ref: str, as_json: bool) -> None:
    """Cancel a job: a queued one at once; a running one is stopped on its runner (what
    was measured is kept, the host restored) by its worker within seconds."""
    from perflab.store import open_store

    with open_store() as store:
        job = store.jobs.cancel(job_ref)
    if as_json:
        env.print_json(job)
    elif job["state"] == "cancelled":
        env.stdout.write(f"job {job['job_id']} cancelled\n")
    else:
        env.stdout.write(
            f"job {job['job_id']} is {job['state']} on {job['runner']}: its worker stops it\n"
        )


@jobs.command()
@click.argument("job_ref", metavar="ID")
@json_option("the job, queued again")
@click.pass_obj
def retry(env: Env, job_ref: str, as_json: bool) -> None:
    """Queue a failed or cancelled job again."""
    from perflab.queue.app import make_app
    from perflab.queue.submit import connect, publish
    from perflab.store import open_store

    app = make_app()
    with open_store() as store:
        conn = connect(app)
        try:
            job = store.jobs.retry(job_ref)
            publish(app, conn, job)
            store.jobs.mark_enqueued(job["job_id"])
        finally:
            conn.release()
    if as_json:
        env.print_json(job)
    else:
        env.stdout.write(f"job {job['job_id']} queued again\n")


def _status(job: dict[str, Any]) -> int:
    """The exit status a finished job stands for: its own, 130 when cancelled."""
    if job["state"] == "cancelled":
        return int(ExitStatus.INTERRUPTED)
    if job["exit_status"] is not None:
        return int(job["exit_status"])
    return int(ExitStatus.OK if job["state"] == "done" else ExitStatus.ERROR)


class Detached(PerflabError):
    """Ctrl-C while following a job: the job goes on (exit status 130)."""

    exit_status = ExitStatus.INTERRUPTED


def follow(
    env: Env, job_ref: str, *, as_json: bool, exit_with_job: bool, keep_going: bool = True
) -> None:
    """Print the job's new events and repetitions until it ends (or once)."""
    from perflab.report.jobs import JobLog
    from perflab.store import open_store

    with open_store() as store:
        job_id = store.jobs.resolve(job_ref)
        job = _watch(store, job_id, JobLog(env.stdout if not as_json else None), keep_going)
    if as_json:
        env.print_json(job)
    if exit_with_job and job["state"] in FINAL:
        _fail_with(env, job)


def follow_all(env: Env, job_ids: list[str], *, as_json: bool) -> None:
    """Follow several jobs (a job matrix's, one per combination) in turn until every one
    has ended; exit with the worst of their statuses. --json: {"jobs": [...]} at the end."""
    from perflab.report.jobs import JobLog, cell
    from perflab.store import open_store

    done = []
    with open_store() as store:
        for job_id in job_ids:
            if not as_json:
                shown = store.jobs.get(job_id)
                env.stdout.write(f"job {job_id} [{cell(shown)}]\n")
            printer = JobLog(env.stdout if not as_json else None)
            done.append(_watch(store, job_id, printer, True, others=job_ids))
    if as_json:
        env.print_json({"jobs": done})
    for job in done:
        _fail_with(env, job)


def _watch(
    store: Store, job_id: str, printer: JobLog, keep_going: bool, others: list[str] | None = None
) -> dict[str, Any]:
    """The job once it has ended (or now, unless ``keep_going``), its news printed."""
    try:
        while True:
            job: dict[str, Any] = store.jobs.get(job_id)
            printer.update(job, store)
            if job["state"] in FINAL or not keep_going:
                return job
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        if others and len(others) > 1:
            raise Detached(
                f"stopped following jobs {', '.join(others)}; they keep running",
                hint="`perflab jobs list` shows them, `perflab jobs cancel ID` cancels one",
            ) from None
        raise Detached(
            f"stopped following job {job_id}; it keeps running",
            hint=f"follow it again with `perflab jobs logs {job_id} --follow`, "
            f"cancel it with `perflab jobs cancel {job_id}`",
        ) from None


def _fail_with(env: Env, job: dict[str, Any]) -> None:
    """The exit status of a finished job (several: the worst, see Env.fail)."""
    status = _status(job)
    if status:
        env.fail(ExitStatus(status) if status in {int(s) for s in ExitStatus} else ExitStatus.ERROR)
