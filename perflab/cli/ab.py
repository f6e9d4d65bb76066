"""``perflab ab JOB.yaml BASELINE CANDIDATE``: the recommended gate, interleaved A/B.

Two programs (existing files) or two git refs of the job's workdir run on one
prepared runner in ABBA order and are compared on paired ratios; the exit
status is ``perflab compare``'s (0, 2 regressed, 4 could not measure, 3 bad input).
"""

from __future__ import annotations

import click

from perflab.cli import complete
from perflab.cli.become import ask_become_pass_option
from perflab.cli.env import Env
from perflab.cli.helptext import examples
from perflab.cli.prepare import lock_wait_option
from perflab.errors import ExitStatus


@click.command(
    epilog=examples(
        "perflab ab job.yaml origin/main HEAD",
        "perflab ab job.yaml build-old/bench build-new/bench --profile shield --json",
    )
)
@click.argument("job_file", metavar="JOB.yaml", shell_complete=complete.files)
@click.argument("baseline")
@click.argument("candidate")
@click.option(
    "--runner",
    default="local",
    show_default=True,
    shell_complete=complete.runners,
    help="Runner to run on.",
)
@click.option(
    "--profile",
    shell_complete=complete.profiles,
    help="Preparation playbook to apply around the experiment.",
)
@click.option(
    "--order",
    type=click.Choice(["abba", "random"]),
    default="abba",
    show_default=True,
    help="A B, B A, ... or each pair in a seeded random order.",
)
@click.option("--json", "as_json", is_flag=True, help="The runs and the paired comparison.")
@ask_become_pass_option
@lock_wait_option
@click.pass_obj
def ab(
    env: Env,
    job_file: str,
    baseline: str,
    candidate: str,
    runner: str,
    profile: str | None,
    order: str,
    as_json: bool,
    lock_wait: float | None,
) -> None:
    """Run BASELINE and CANDIDATE interleaved and compare them on paired ratios.

    Each is a program (a file: the job's command runs "$PERFLAB_AB_BINARY") or a git ref
    of the job's workdir (each built by the job's setup steps).
    """
    from perflab import api
    from perflab.cli.experiment import render
    from perflab.cli.run import _reporter
    from perflab.execute.ab import with_ab
    from perflab.spec.job import load_job
    from perflab.spec.playbook import load_profile

    job = with_ab(load_job(job_file), baseline, candidate, order=order)
    request = api.RunRequest(
        job, runner=runner, profile=load_profile(profile) if profile else None, lock_wait=lock_wait
    )
    result = api.run(request, reporter=_reporter(env, as_json))
    render(env, result, as_json)
    if result.problem is not None:
        raise result.problem
    if result.exit_status != ExitStatus.OK:
        env.fail(result.exit_status)
