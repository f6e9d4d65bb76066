"""``perflab compare BASELINE CANDIDATE``: verdicts that know about noise; exit 2 on regression."""

from __future__ import annotations

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.cli.helptext import examples
from perflab.errors import ExitStatus


@click.command(epilog=examples(
    "perflab compare nightly 1a2b3c4d",
    "perflab compare 1a2b3c4d 5e6f7a8b --format md -o report.md",
    "perflab compare base.json candidate.json --noise-band 2% --benchmark 'BM_Sort*'"))
@click.argument("baseline", shell_complete=complete.sides)
@click.argument("candidate", shell_complete=complete.sides)
@click.option("--format", "fmt", type=click.Choice(["table", "md", "json"]), default="table",
              show_default=True, help="A table for the terminal, Markdown (a CI comment) or "
                                      "JSON.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--force", is_flag=True,
              help="Compare runs of different evidence classes (the differences are reported).")
@click.option("--noise-band", help='Override the job\'s noise band, e.g. "2%".')
@click.option("--confidence", type=click.FloatRange(0.5, 0.999),
              help="Override the job's confidence level of the intervals, e.g. 0.99.")
@click.option("--baseline-runs", type=click.IntRange(1, 100),
              help="The baseline is this many runs: the named one and the runs of its job, "
                   "runner, platform and fingerprint before it (job: compare.baseline_runs).")
@click.option("--run-spread",
              help='Declare the run-to-run spread, e.g. "3%" (default: learned from the job\'s '
                   "history on the runner; 10% when there is none).")
@click.option("--metric", "metrics", multiple=True, help="Only these metrics (globs).")
@click.option("--benchmark", "benchmarks", multiple=True, help="Only these benchmarks (globs).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the output here.")
@click.pass_obj
def compare(env: Env, baseline: str, candidate: str, fmt: str, as_json: bool, force: bool,
            noise_band: str | None, confidence: float | None, baseline_runs: int | None,
            run_spread: str | None, metrics: tuple[str, ...], benchmarks: tuple[str, ...],
            output: str | None) -> None:
    """Compare a candidate with a baseline: each a run id, a baseline name or a result file.

    Exit status 0 when nothing regressed and no gate failed, 2 a regression or a failed
    gate, 4 nothing regressed but a row could not be measured (a contaminated run, a
    failed noise probe, modes that mix differently), 3 on bad input.
    """
    from perflab.compare.engine import compare_stored
    from perflab.store import open_store

    with open_store() as store:
        outcome = compare_stored(store, baseline, candidate, force=force,
                                 overrides={"noise_band": noise_band, "confidence": confidence,
                                            "run_spread": run_spread,
                                            "baseline_runs": baseline_runs},
                                 metrics=metrics, benchmarks=benchmarks)
    fmt = "json" if as_json else fmt
    if fmt == "json":
        text = None
        if output is None:
            env.print_json(outcome.to_dict())
        else:
            import json

            text = json.dumps(outcome.to_dict(), indent=2, allow_nan=False) + "\n"
    elif fmt == "md":
        from perflab.report.compare import render_markdown

        text = render_markdown(outcome)
        if output is None:
            env.stdout.write(text)
    else:
        from perflab.report.compare import render_table

        render_table(env.console(), outcome)
        text = None
    if output is not None and text is not None:
        with open(output, "w", encoding="utf-8") as handle:  # noqa: PTH123
            handle.write(text)
    if outcome.exit_status != ExitStatus.OK:
        env.fail(outcome.exit_status)
