"""``perflab history JOB BENCH``: the stored series of a metric and its change points."""

from __future__ import annotations

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.cli.helptext import json_option
from perflab.limits import MAX_LIST_LIMIT


@click.command()
@click.argument("job")
@click.argument("benchmark")
@click.option(
    "--metric",
    help="Default: the benchmark's first metric (wall_time for a time job, time for most tools).",
)
@click.option("--platform", help="Only runs of this platform class.")
@click.option("--branch", help="Only runs of this git branch.")
@click.option("--runner", shell_complete=complete.runners, help="Only runs on this runner.")
@click.option(
    "--pvalue",
    default=0.001,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Significance a change point needs.",
)
@click.option(
    "--min-magnitude",
    default="0%",
    show_default=True,
    help='Ignore change points smaller than this, e.g. "2%".',
)
@click.option(
    "--limit",
    default=1000,
    show_default=True,
    type=click.IntRange(1, MAX_LIST_LIMIT),
    help="At most this many runs (the newest).",
)
@json_option("the series and its change points")
@click.pass_obj
def history(
    env: Env,
    job: str,
    benchmark: str,
    metric: str | None,
    platform: str | None,
    branch: str | None,
    runner: str | None,
    pvalue: float,
    min_magnitude: str,
    limit: int,
    as_json: bool,
) -> None:
    """Median per run, oldest first, with change points (E-divisive means + t-test merge)."""
    from perflab.compare.history import history as build
    from perflab.errors import InputError
    from perflab.spec.units import fraction
    from perflab.store import open_store

    try:
        magnitude = fraction(min_magnitude) or 0.0
    except ValueError:
        raise InputError(
            f'expected a percentage like "2%", got "{min_magnitude}"', field="--min-magnitude"
        ) from None
    with open_store() as store:
        result = build(
            store,
            job,
            benchmark,
            metric=metric,
            platform=platform,
            branch=branch,
            runner=runner,
            pvalue=pvalue,
            min_magnitude=magnitude,
            limit=limit,
        )
    if as_json:
        env.print_json(result.to_dict())
        return
    from rich.table import Table

    from perflab.report.tables import format_value

    at = {cp["index"]: cp for cp in result.change_points}
    table = Table(
        title=f"{job} / {benchmark} / {result.metric}", title_justify="left", header_style="bold"
    )
    for column in ("#", "run", "started", "commit", "n", "median", "change point"):
        table.add_column(column)
    for i, point in enumerate(result.points):
        cp = at.get(i)
        mark = f"[red]{cp['change']:+.1%} (p={cp['pvalue']:.2g})[/red]" if cp else ""
        table.add_row(
            str(i),
            point["run_id"],
            point["started_at"][:19].replace("T", " "),
            (point["git_commit"] or "")[:10],
            str(point["n"]),
            format_value(point["median"], point["unit"]),
            mark,
        )
    env.console().print(table)
    env.stdout.write(f"{len(result.change_points)} change point(s) in {len(result.points)} runs\n")
