"""``perflab results list|show|export|files|cat``: stored runs, their raw samples, and
their raw files (outputs, logs, artifacts), from any machine that shares the store."""

from __future__ import annotations

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.cli.helptext import json_option
from perflab.limits import MAX_LIST_LIMIT
from perflab.store import open_store


@click.group()
def results() -> None:
    """Stored runs: list them, show one, export its samples, read its raw files."""


@results.command("list")
@click.option("--job", help="Only runs of this job.")
@click.option("--runner", help="Only runs on this runner.", shell_complete=complete.runners)
@click.option(
    "--status",
    type=click.Choice(["completed", "failed", "interrupted", "running"]),
    help="Only runs that ended so (or are running).",
)
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, MAX_LIST_LIMIT),
    help="At most this many runs, newest first.",
)
@json_option("the runs")
@click.pass_obj
def list_(
    env: Env, job: str | None, runner: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    """Newest runs first."""
    with open_store() as store:
        rows = store.runs.list(job=job, runner=runner, status=status, limit=limit)
    if as_json:
        env.print_json({"runs": rows})
        return
    if not rows:
        filters = ", ".join(
            f"{k} {v}" for k, v in (("job", job), ("runner", runner), ("status", status)) if v
        )
        env.stdout.write(
            f"no runs match ({filters})\n"
            if filters
            else "no runs stored yet: `perflab run JOB.yaml` stores one\n"
        )
        return
    from perflab.report.tables import runs_table

    env.console().print(runs_table(rows))


@results.command()
@click.argument("run_ref", metavar="RUN", shell_complete=complete.runs)
@json_option("the run, with every sample")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
    help="html: one self-contained page with plots (as `perflab report RUN --format html`).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file instead of stdout (html).",
)
@click.pass_obj
def show(env: Env, run_ref: str, as_json: bool, fmt: str, output: str | None) -> None:
    """One run: status, environment, the CPUs it ran on, every repetition and sample."""
    if fmt == "html":
        _html(env, run_ref, output)
        return
    as_json = as_json or fmt == "json"
    with open_store() as store:
        view = store.runs.get(run_ref)
        samples = [] if as_json else store.runs.sample_rows(view.id)
    if as_json:
        env.print_json(view.to_dict())
        return
    from perflab.report.run import render_run

    render_run(env.console(), view, samples)


@results.command()
@click.argument("run_ref", metavar="RUN", shell_complete=complete.runs)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "html"]),
    required=True,
    help="CSV: one row per sample; JSON: the run as `results show --json` has it; "
    "HTML: one self-contained page with plots.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of stdout.",
)
@click.pass_obj
def export(env: Env, run_ref: str, fmt: str, output: str | None) -> None:
    """Every raw sample of a run, as CSV (one row per sample), JSON or HTML."""
    from perflab.report.export import run_csv, run_json

    if fmt == "html":
        _html(env, run_ref, output)
        return
    with open_store() as store:
        view = store.runs.get(run_ref)
        text = run_csv(view, store.runs.sample_rows(view.id)) if fmt == "csv" else run_json(view)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:  # noqa: PTH123
            handle.write(text)
    else:
        env.stdout.write(text)


@results.command()
@click.argument("run_ref", metavar="RUN")
@json_option("the run's stored files")
@click.pass_obj
def files(env: Env, run_ref: str, as_json: bool) -> None:
    """The raw files stored for a run: outputs, logs, artifacts (readable anywhere)."""
    with open_store() as store:
        run_id = store.runs.resolve(run_ref)
        rows = store.runs.files(run_id)
    if as_json:
        env.print_json({"run_id": run_id, "files": rows})
        return
    from perflab.report.files import files_table

    env.console().print(files_table(rows))


@results.command()
@click.argument("run_ref", metavar="RUN")
@click.argument("name")
@click.pass_obj
def cat(env: Env, run_ref: str, name: str) -> None:
    """Print one raw file of a run as it was written (NAME as `results files` lists it)."""
    with open_store() as store:
        stored = store.runs.read_file(run_ref, name)
    if stored.truncated:
        env.warn(
            f"{name} is truncated: the store kept the first and last part of its "
            f"{stored.size} bytes (PERFLAB_FILE_MAX_BYTES, PERFLAB_RUN_FILES_MAX_BYTES); "
            "the whole file stays in the run folder where it ran"
        )
    buffer = getattr(env.stdout, "buffer", None)
    if buffer is None:  # a text stream only (tests)
        env.stdout.write(stored.data.decode("utf-8", "replace"))
        return
    env.stdout.flush()
    buffer.write(stored.data)
    buffer.flush()


def _html(env: Env, run_ref: str, output: str | None) -> None:
    """One run as the report's HTML page (its platform, its baseline if one is set)."""
    from perflab.cli.output import check_writable, write_output
    from perflab.cli.report import render
    from perflab.compare.aggregate import aggregate
    from perflab.compare.platforms import load_history, platform_runs
    from perflab.report.html import plotted

    check_writable(output)
    with open_store() as store:
        parts = platform_runs(store, [run_ref])
        agg = aggregate(parts)
        load_history(store, parts, [(r.benchmark, r.metric) for r in plotted(agg)])
        agg.histories = {p.platform: p.history for p in parts if p.history}
    write_output(env, output, render(agg, "html"))
