"""``perflab compare BASELINE CANDIDATE``: verdicts that know about noise; exit 2 on regression."""

from __future__ import annotations

from typing import Any

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.cli.helptext import examples
from perflab.errors import ExitStatus


@click.command(
    epilog=examples(
        "perflab compare nightly 1a2b3c4d",
        "perflab compare 1a2b3c4d 5e6f7a8b --format md -o report.md",
        "perflab compare base.json candidate.json --noise-band 2% --benchmark 'BM_Sort*'",
    )
)
@click.argument("baseline", shell_complete=complete.sides)
@click.argument("candidate", shell_complete=complete.sides)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "md", "json", "html", "junit"]),
    default="table",
    show_default=True,
    help="A table for the terminal, Markdown (a CI comment), JSON, one "
    "self-contained HTML page, or JUnit XML of the gates.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Table and Markdown: also the rows unchanged within noise or undecided.",
)
@click.option("--pretty", is_flag=True, help="JSON: indented (default: one compact line).")
@click.option(
    "--force",
    is_flag=True,
    help="Compare runs of different evidence classes (the differences are reported).",
)
@click.option("--noise-band", help='Override the job\'s noise band, e.g. "2%".')
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 0.999),
    help="Override the job's confidence level of the intervals, e.g. 0.99.",
)
@click.option(
    "--baseline-runs",
    type=click.IntRange(1, 100),
    help="The baseline is this many runs: the named one and the runs of its job, "
    "runner, platform and fingerprint before it (job: compare.baseline_runs).",
)
@click.option(
    "--run-spread",
    help='Declare the run-to-run spread, e.g. "3%" (default: learned from the job\'s '
    "history on the runner; 10% when there is none).",
)
@click.option("--metric", "metrics", multiple=True, help="Only these metrics (globs).")
@click.option("--benchmark", "benchmarks", multiple=True, help="Only these benchmarks (globs).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the output here.")
@click.pass_obj
def compare(
    env: Env,
    baseline: str,
    candidate: str,
    fmt: str,
    as_json: bool,
    show_all: bool,
    pretty: bool,
    force: bool,
    noise_band: str | None,
    confidence: float | None,
    baseline_runs: int | None,
    run_spread: str | None,
    metrics: tuple[str, ...],
    benchmarks: tuple[str, ...],
    output: str | None,
) -> None:
    """Compare a candidate with a baseline: each a run id, a baseline name or a result file.

    Exit status 0 when nothing regressed and no gate failed, 2 a regression or a failed
    gate, 4 nothing regressed but a row could not be measured (a contaminated run, a
    failed noise probe, modes that mix differently), 3 on bad input.
    """
    from perflab.cli.env import paused_gc, preload
    from perflab.cli.output import check_writable

    check_writable(output)
    preload("numpy")
    with paused_gc():
        _compare(
            env,
            baseline,
            candidate,
            fmt="json" if as_json else fmt,
            show_all=show_all,
            pretty=pretty,
            force=force,
            overrides={
                "noise_band": noise_band,
                "confidence": confidence,
                "run_spread": run_spread,
                "baseline_runs": baseline_runs,
            },
            metrics=metrics,
            benchmarks=benchmarks,
            output=output,
        )


def _compare(
    env: Env,
    baseline: str,
    candidate: str,
    *,
    fmt: str,
    show_all: bool,
    pretty: bool,
    force: bool,
    overrides: dict[str, Any],
    metrics: tuple[str, ...],
    benchmarks: tuple[str, ...],
    output: str | None,
) -> None:
    from perflab.cli.output import write_output
    from perflab.compare.engine import compare_stored
    from perflab.store import open_store

    with open_store() as store:
        outcome = compare_stored(
            store,
            baseline,
            candidate,
            force=force,
            overrides=overrides,
            metrics=metrics,
            benchmarks=benchmarks,
        )
    env.kept.append(outcome)
    if fmt == "table" and output is None:
        from perflab.report.compare import render_table

        render_table(env.console(), outcome, show_all=show_all)
    else:
        write_output(env, output, _text(outcome, fmt, show_all=show_all, pretty=pretty))
    if outcome.exit_status != ExitStatus.OK:
        env.fail(outcome.exit_status)


def _text(outcome: Any, fmt: str, *, show_all: bool, pretty: bool) -> str:
    if fmt == "json":
        from perflab.cli.env import dumps

        return dumps(outcome.to_dict(), pretty=pretty) + "\n"
    if fmt == "md":
        from perflab.report.compare import render_markdown

        return render_markdown(outcome, show_all=show_all)
    if fmt == "junit":
        from perflab.report.exports import junit_xml

        return junit_xml(outcome)
    if fmt == "html":
        from perflab.report.html import compare_html

        return compare_html(outcome)
    import io

    from rich.console import Console

    from perflab.report.compare import render_table

    buffer = io.StringIO()
    render_table(Console(file=buffer, width=120, color_system=None), outcome, show_all=show_all)
    return buffer.getvalue()
