"""``perflab run JOB.yaml``: one run on one runner, no queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from perflab.cli import complete
from perflab.cli.become import ask_become_pass_option
from perflab.cli.env import Env
from perflab.cli.helptext import examples
from perflab.cli.prepare import lock_wait_option
from perflab.errors import ExitStatus, InputError

if TYPE_CHECKING:
    from perflab.api import RunResult
    from perflab.execute.runner import Reporter


def _env_pairs(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f'expected NAME=VALUE, got "{item}"', field="--env")
        out[key] = value
    return out


@click.command(
    epilog=examples(
        "perflab run examples/quickstart.yaml",
        "perflab run job.yaml --runner epyc-01 --profile shield",
        "perflab run job.yaml --baseline nightly --json",
    )
)
@click.argument("job_file", metavar="JOB.yaml", shell_complete=complete.files)
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
    help="Preparation playbook to apply around the run.",
)
@click.option(
    "--env",
    "env_items",
    multiple=True,
    metavar="NAME=VALUE",
    help="Extra environment for the benchmark (repeatable).",
)
@click.option(
    "--baseline",
    shell_complete=complete.baselines,
    help="Adaptive repetitions: add runs (up to repetitions.max_runs / max_time) "
    "while the verdict against this baseline is unknown.",
)
@click.option(
    "--vary",
    "vary",
    multiple=True,
    metavar="NAME=V1,V2,...",
    help="One run per value, interleaved, stored as one experiment "
    "(a job field like pin.runtime, or an environment variable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON document.")
@ask_become_pass_option
@lock_wait_option
@click.pass_obj
def run(
    env: Env,
    job_file: str,
    runner: str,
    profile: str | None,
    env_items: tuple[str, ...],
    baseline: str | None,
    vary: tuple[str, ...],
    as_json: bool,
    lock_wait: float | None,
) -> None:
    """Run a job's benchmarks and store the raw samples."""
    from perflab import api
    from perflab.execute.vary import parse_vary
    from perflab.spec.job import load_job
    from perflab.spec.playbook import load_profile

    request = api.RunRequest(
        load_job(job_file),
        runner=runner,
        profile=load_profile(profile) if profile else None,
        env=_env_pairs(env_items),
        baseline=baseline,
        vary=parse_vary(vary),
        lock_wait=lock_wait,
    )
    result = api.run(request, reporter=_reporter(env, as_json))
    if result.kind == "run":
        _render(env, result, as_json)
    elif result.kind == "matrix":
        _render_matrix(env, result, as_json)
    else:
        from perflab.cli.experiment import render

        render(env, result, as_json)
    if result.problem is not None:
        raise result.problem
    if result.exit_status != ExitStatus.OK:
        env.fail(result.exit_status)


def _reporter(env: Env, as_json: bool) -> Reporter:
    from perflab.execute.runner import Reporter

    if as_json or not env.interactive:
        return Reporter()
    from perflab.cli.progress import ProgressReporter

    return ProgressReporter(env.console())


def _render_matrix(env: Env, result: RunResult, as_json: bool) -> None:
    """A job matrix's runs, one per combination ({"runs": [...]} with --json)."""
    if as_json:
        env.print_json({"runs": result.runs})
        return
    from dataclasses import replace

    for outcome, view in zip(result.outcomes, result.runs, strict=True):
        _render(env, replace(result, outcomes=[outcome], runs=[view]), as_json)


def _parts_line(parts: dict[str, int] | None) -> str | None:
    """``runs: N``: how the samples split into runs (what compare counts)."""
    if not parts:
        return None
    count, per_run = parts["runs"], parts["processes"]
    return (
        f"{count} runs of {per_run} process{'es' * (per_run != 1)} each: repetitions "
        f"1-{per_run} are the first run; compare counts {count} runs"
    )


def _render(env: Env, result: RunResult, as_json: bool) -> None:
    [outcome], [view] = result.outcomes, result.runs
    if as_json:
        doc = dict(view)
        if result.comparison is not None:
            doc["comparison"] = result.comparison.to_dict()
        env.print_json(doc)
        return
    from perflab.report.tables import results_table

    console = env.console()
    cell = ",".join(f"{k}={v}" for k, v in (view.get("matrix") or {}).items())
    console.print(
        results_table(
            outcome.result,
            title=f"run {outcome.run_id} ({view['job']}"
            f"{f' [{cell}]' if cell else ''} on "
            f"{view['runner']}): {outcome.status}",
        )
    )
    if outcome.message:
        console.print(
            f"[red]{outcome.message}[/red]" if outcome.status == "failed" else outcome.message
        )
    from perflab.report.repetitions import contention_line

    contention = contention_line(view.get("repetitions") or [])
    if contention:
        console.print(contention)
    parts = _parts_line(view.get("run_parts"))
    if parts:
        console.print(parts)
    for flag in outcome.flags:
        console.print(f"[yellow]note:[/yellow] {flag.get('message')}")
    console.print(f"raw outputs and logs: {outcome.raw_dir}")
    if result.comparison is not None:
        from perflab.report.compare import render_table

        render_table(console, result.comparison)
