"""``perflab report RUN...``: one table of benchmark x platform, as Markdown, CSV, JSON,
HTML, or an export for Bencher, github-action-benchmark or JUnit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.cli.helptext import examples
from perflab.errors import ExitStatus

if TYPE_CHECKING:
    from perflab.compare.aggregate import Aggregate

FORMATS = ["md", "csv", "json", "html", "bmf", "github-smaller", "github-bigger", "junit"]


@click.command(
    epilog=examples(
        "perflab report 1a2b3c4d 5e6f7a8b --format html -o nightly.html",
        "perflab report 1a2b3c4d 5e6f7a8b --baseline nightly --format md",
        "perflab report 1a2b3c4d --format bmf -o bencher.json",
        "perflab report $(perflab sweep history nightly --json | jq -r '.runs[0].sweep_run_id')",
    )
)
@click.argument(
    "runs", nargs=-1, required=True, metavar="SWEEP_RUN | RUN...", shell_complete=complete.runs
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="md (issue/PR), csv, json, html (one self-contained page), bmf (Bencher "
    "Metric Format), github-smaller/github-bigger (github-action-benchmark's "
    "customSmallerIsBetter/customBiggerIsBetter), junit (gate results).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the report here (default: stdout).",
)
@click.option(
    "--baseline",
    help="Compare each run with this baseline name (default: the "
    "newest baseline of its job, platform and branch).",
)
@click.option(
    "--reference", help="Platform the cross-platform ratios are against (default: the first run's)."
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Markdown: also the rows unchanged within noise or undecided.",
)
@click.option("--pretty", is_flag=True, help="JSON: indented (default: one compact line).")
@click.pass_obj
def report(
    env: Env,
    runs: tuple[str, ...],
    fmt: str,
    output: str | None,
    baseline: str | None,
    reference: str | None,
    show_all: bool,
    pretty: bool,
) -> None:
    """Aggregate runs (one per platform), or the runs of one sweep run: medians, CIs,
    changes against each platform's baseline, verdicts, consistency across platforms,
    calibrated cross-platform ratios; a sweep run's failed and skipped parts are listed.

    Exit status 0, or 2 when a benchmark regressed on any platform, 3 on bad input.
    """
    from perflab.cli.env import paused_gc, preload
    from perflab.cli.output import check_writable, write_output
    from perflab.compare.aggregate import aggregate
    from perflab.compare.platforms import load_history, platform_runs, sweep_runs
    from perflab.store import open_store

    check_writable(output)
    preload("numpy")
    with paused_gc(), open_store() as store:
        sweep = None
        if len(runs) == 1 and _is_sweep_run(store, runs[0]):
            parts, sweep = sweep_runs(store, runs[0], baseline=baseline)
        else:
            parts = platform_runs(store, runs, baseline=baseline)
        agg = aggregate(parts, reference=reference)
        agg.sweep = sweep
        if fmt == "html":
            from perflab.report.html import plotted

            load_history(store, parts, [(r.benchmark, r.metric) for r in plotted(agg)])
            agg.histories = {p.platform: p.history for p in parts if p.history}
    with paused_gc():
        write_output(env, output, render(agg, fmt, show_all=show_all, pretty=pretty))
    if agg.regression:
        env.fail(ExitStatus.REGRESSION)


def _is_sweep_run(store: Any, ref: str) -> bool:
    """A reference that names no run but a sweep run (`perflab sweep history NAME`)."""
    from perflab.errors import InputError

    try:
        store.runs.resolve(ref)
        return False
    except InputError:
        pass
    try:
        store.sweeps.resolve(ref)
        return True
    except InputError:
        return False


def render(agg: Aggregate, fmt: str, *, show_all: bool = False, pretty: bool = False) -> str:
    """The aggregation in one of FORMATS."""
    from perflab.report import aggregate as text
    from perflab.report import exports

    if fmt == "json":
        from perflab.cli.env import dumps

        return dumps(agg.to_dict(), pretty=pretty) + "\n"
    if fmt == "html":
        from perflab.report.html import aggregate_html

        return aggregate_html(agg)
    renderers: dict[str, Any] = {
        "md": lambda: text.markdown(agg, show_all=show_all),
        "csv": lambda: text.csv_text(agg),
        "bmf": lambda: exports.bmf(agg),
        "github-smaller": lambda: exports.github_benchmark(agg, "lower"),
        "github-bigger": lambda: exports.github_benchmark(agg, "higher"),
        "junit": lambda: exports.junit_from_aggregate(agg),
    }
    return str(renderers[fmt]())
