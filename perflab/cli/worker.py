"""``perflab worker`` (serve runners from the queue) and ``perflab status`` (the lab now)."""

from __future__ import annotations

import click

from perflab.cli.env import Env
from perflab.cli.helptext import json_option


@click.command()
@click.option(
    "--runner",
    "names",
    multiple=True,
    metavar="NAME",
    help="Serve this runner (repeatable; `local` is this machine).",
)
@click.option("--group", help="Serve every runner of this inventory group.")
@click.option("--all", "every", is_flag=True, help="Serve every registered runner.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 512),
    help="Jobs at once (default: one per runner served; a runner never runs "
    "two jobs at once whatever this says).",
)
@click.option(
    "--reconcile-interval",
    default=15.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    metavar="SECONDS",
    help="How often to look for lost jobs, expired leases and lost messages.",
)
@click.option(
    "--republish-after",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1, 86400),
    metavar="SECONDS",
    help="Send a queued job's message again after this long without a start.",
)
@click.option(
    "--loglevel",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    help="How much the worker logs (its jobs' transitions are in the store).",
)
@click.pass_obj
def worker(
    env: Env,
    names: tuple[str, ...],
    group: str | None,
    every: bool,
    concurrency: int | None,
    reconcile_interval: float,
    republish_after: float,
    loglevel: str,
) -> None:
    """Run queued jobs on these runners until stopped (SIGTERM: running jobs finish).

    \b
    Examples:
      perflab worker --runner local
      perflab worker --group lab --concurrency 8
    """
    from perflab.queue.worker import start
    from perflab.sweep.schedule import SWEEP_QUEUE
    from perflab.sweep.start import bind_ticks

    start(
        names,
        group=group,
        every=every,
        concurrency=concurrency,
        interval=reconcile_interval,
        republish_after=republish_after,
        loglevel=loglevel,
        extra_queues=(SWEEP_QUEUE,),
        plugins=(bind_ticks,),
    )


@click.command()
@json_option("the lab's state")
@click.pass_obj
def status(env: Env, as_json: bool) -> None:
    """Runners (idle, leased by which job, offline, quarantined), queued jobs per runner,
    group and platform, and the workers alive."""
    from perflab.queue.status import lab_status

    doc = lab_status()
    if as_json:
        env.print_json(doc)
        return
    from perflab.report.jobs import render_status

    render_status(env.console(), doc)
