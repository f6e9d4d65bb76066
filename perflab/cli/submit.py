"""``perflab submit JOB.yaml``: freeze the job, queue it, print its id (and follow it)."""

from __future__ import annotations

import click

from perflab.cli.env import Env
from perflab.cli.run import _env_pairs


@click.command()
@click.argument("job_file", metavar="JOB.yaml")
@click.option("--runner", help="Run on this runner (default: the job's runs_on, else local).")
@click.option("--group", help="Run on an idle runner of this group.")
@click.option("--platform", help="Run on an idle runner of this platform (linux-x86_64 ...).")
@click.option("--profile", help="Preparation playbook to apply around the run.")
@click.option("--baseline", help="Adaptive repetitions against this baseline (as for run).")
@click.option(
    "--env",
    "env_items",
    multiple=True,
    metavar="NAME=VALUE",
    help="Extra environment for the benchmark (repeatable).",
)
@click.option(
    "--priority",
    default=0,
    show_default=True,
    type=click.IntRange(-100, 100),
    help="Higher runs first among jobs waiting for the same runner.",
)
@click.option(
    "--deadline",
    default=24 * 3600.0,
    show_default=True,
    type=click.FloatRange(1, 30 * 24 * 3600),
    metavar="SECONDS",
    help="Fail the job if no runner could start it within this time.",
)
@click.option(
    "--retries",
    default=1,
    show_default=True,
    type=click.IntRange(0, 5),
    help="Attempts after the first when a runner or worker is lost.",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Follow the job (each of a matrix's, in turn) and exit with its status (the worst).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"job_id": ...} (with --wait: the finished job); for a job matrix '
    '{"jobs": [...]}, one per combination.',
)
@click.pass_obj
def submit(
    env: Env,
    job_file: str,
    runner: str | None,
    group: str | None,
    platform: str | None,
    profile: str | None,
    baseline: str | None,
    env_items: tuple[str, ...],
    priority: int,
    deadline: float,
    retries: int,
    wait: bool,
    as_json: bool,
) -> None:
    """Queue a job for the lab's workers; prints its id at once.

    A job with a matrix is one job per combination: one line per job (its id and
    its values), or {"jobs": [{"job_id": ..., "matrix": {...}}, ...]} with --json;
    --wait follows every one and exits with the worst status.

    \b
    Examples:
      perflab submit job.yaml --runner epyc-01
      perflab submit job.yaml --group arm --wait
      JOB=$(perflab submit job.yaml --platform linux-x86_64 --json | jq -r .job_id)
    """
    from perflab.queue.app import make_app
    from perflab.queue.submit import Submission, submit_all, target_of
    from perflab.spec.job import load_job
    from perflab.spec.matrix import label
    from perflab.spec.playbook import load_profile
    from perflab.store import open_store

    job = load_job(job_file)
    kind, target = target_of(job, runner, group, platform)
    ref = profile or job.profile
    chosen = load_profile(ref) if ref else None
    submission = Submission(
        job, kind, target, chosen, baseline, _env_pairs(env_items), priority, deadline, retries
    )
    with open_store() as store:
        queued = submit_all(store, make_app(), submission)
    if not job.raw.get("matrix"):
        _single(env, queued[0].job_id, kind, target, wait=wait, as_json=as_json)
        return
    if not wait:
        if as_json:
            env.print_json({"jobs": [{"job_id": q.job_id, "matrix": q.matrix} for q in queued]})
        else:
            for q in queued:
                env.stdout.write(f"{q.job_id} {label(q.matrix)}\n")
        return
    from perflab.cli.jobs import follow_all

    for q in queued:
        env.stderr.write(f"job {q.job_id} queued for {kind} {target} [{label(q.matrix)}]\n")
    follow_all(env, [q.job_id for q in queued], as_json=as_json)


def _single(env: Env, job_id: str, kind: str, target: str, *, wait: bool, as_json: bool) -> None:
    """A job without a matrix: its id, or (--wait) the job followed to its end."""
    if not wait:
        if as_json:
            env.print_json({"job_id": job_id})
        else:
            env.stdout.write(f"{job_id}\n")
        return
    from perflab.cli.jobs import follow

    env.stderr.write(f"job {job_id} queued for {kind} {target}\n")
    follow(env, job_id, as_json=as_json, exit_with_job=True)
