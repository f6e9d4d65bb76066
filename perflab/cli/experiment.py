"""How ``perflab run`` shows an experiment: ``--vary`` runs, or an A/B job with its
paired comparison (the library call is :func:`perflab.api.run`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perflab.cli.env import Env

if TYPE_CHECKING:
    from perflab.api import RunResult


def experiment_dict(result: RunResult) -> dict[str, Any]:
    experiment = result.experiment
    assert experiment is not None
    return {
        "experiment": experiment.experiment,
        "key": experiment.variable.key,
        "values": experiment.variable.values,
        "rounds": experiment.rounds,
        "counted_rounds": experiment.counted_rounds,
        "runs": result.runs,
    }


def render(env: Env, result: RunResult, as_json: bool) -> None:
    """The runs of an experiment (and an A/B job's comparison, when there is one)."""
    if as_json:
        doc = experiment_dict(result)
        if result.kind == "ab":
            doc["comparison"] = result.comparison.to_dict() if result.comparison else None
        env.print_json(doc)
        return
    _render_runs(env, result)
    if result.comparison is not None:
        from perflab.report.compare import render_table

        render_table(env.console(), result.comparison)


def _render_runs(env: Env, result: RunResult) -> None:
    from perflab.report.tables import results_table

    experiment = result.experiment
    assert experiment is not None
    console = env.console()
    variable = experiment.variable
    counted = experiment.counted_rounds
    rounds = len(experiment.rounds) - counted
    also = f" (and {counted} counted round{'s' if counted > 1 else ''})" if counted else ""
    console.print(
        f"experiment {experiment.experiment}: {variable.key} = "
        f"{', '.join(repr(v) for v in variable.values)}; "
        f"{rounds} rounds{also}, variants interleaved"
    )
    for value, outcome in zip(variable.values, result.outcomes, strict=False):
        console.print(
            results_table(
                outcome.result,
                title=f"{variable.key}={value}: run {outcome.run_id}: {outcome.status}",
            )
        )
        if outcome.message:
            console.print(
                f"[red]{outcome.message}[/red]" if outcome.status == "failed" else outcome.message
            )
        for flag in outcome.flags:
            console.print(f"[yellow]note:[/yellow] {flag.get('message')}")
