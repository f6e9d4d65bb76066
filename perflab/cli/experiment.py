"""``perflab run JOB --vary NAME=V1,V2,...``: one run per value, interleaved, one experiment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perflab.cli.env import Env
from perflab.errors import ExitStatus

if TYPE_CHECKING:
    from perflab.execute.experiment import ExperimentOutcome
    from perflab.execute.runner import Reporter
    from perflab.execute.vary import Variable
    from perflab.spec.job import Job
    from perflab.spec.playbook import Profile
    from perflab.store import Store


def run_experiment_cli(env: Env, job: Job, variable: Variable, *, runner: str,
                       profile: Profile | None, extra_env: dict[str, str],
                       as_json: bool, lock_wait: float | None = None) -> None:
    from perflab.execute.experiment import run_experiment
    from perflab.execute.runner import RunOptions
    from perflab.runners import open_runner
    from perflab.store import open_store

    store = open_store()
    host = open_runner(runner, store, for_run=True)
    try:
        result = run_experiment(job, variable, host, store, profile=profile,
                                opts=RunOptions(runner=runner, env=extra_env,
                                                lock_wait=lock_wait),
                                reporter=_reporter(env, as_json))
        render(env, store, result, as_json)
    finally:
        store.close()
        host.transport.close()
    _exit_status(env, result)


def _exit_status(env: Env, result: ExperimentOutcome) -> bool:
    """Interrupted: 130; bad input: 3; a failed run: 1. True when every run completed."""
    if result.interrupted:
        raise result.interruption()
    errors = [o.input_error for o in result.outcomes if o.input_error is not None]
    if errors:
        raise errors[0]
    if any(o.status != "completed" for o in result.outcomes):
        env.fail(ExitStatus.ERROR)
        return False
    return True


def _reporter(env: Env, as_json: bool) -> Reporter:
    from perflab.execute.runner import Reporter

    if as_json or not env.interactive:
        return Reporter()
    from perflab.cli.progress import ProgressReporter

    return ProgressReporter(env.console())


def experiment_dict(store: Store, result: ExperimentOutcome) -> dict[str, Any]:
    return {"experiment": result.experiment, "key": result.variable.key,
            "values": result.variable.values, "rounds": result.rounds,
            "runs": [store.runs.get(o.run_id).to_dict() for o in result.outcomes]}


def render(env: Env, store: Store, result: ExperimentOutcome, as_json: bool) -> None:
    if as_json:
        env.print_json(experiment_dict(store, result))
        return
    from perflab.report.tables import results_table

    console = env.console()
    variable = result.variable
    console.print(f"experiment {result.experiment}: {variable.key} = "
                  f"{', '.join(repr(v) for v in variable.values)}; "
                  f"{len(result.rounds)} rounds, variants interleaved")
    for value, outcome in zip(variable.values, result.outcomes, strict=False):
        console.print(results_table(outcome.result, title=f"{variable.key}={value}: run "
                                                          f"{outcome.run_id}: {outcome.status}"))
        if outcome.message:
            console.print(f"[red]{outcome.message}[/red]" if outcome.status == "failed"
                          else outcome.message)
        for flag in outcome.flags:
            console.print(f"[yellow]note:[/yellow] {flag.get('message')}")


def run_ab_cli(env: Env, job: Job, *, runner: str, profile: Profile | None,
               extra_env: dict[str, str], as_json: bool, lock_wait: float | None = None) -> None:
    """A/B mode: both variants interleaved on one host, then compared on paired ratios."""
    from perflab.compare.engine import compare_sides
    from perflab.compare.sides import run_side
    from perflab.execute.ab import run_ab
    from perflab.execute.runner import RunOptions
    from perflab.runners import open_runner
    from perflab.store import open_store

    store = open_store()
    host = open_runner(runner, store, for_run=True)
    try:
        result = run_ab(job, host, store, profile=profile,
                        opts=RunOptions(runner=runner, env=extra_env, lock_wait=lock_wait),
                        reporter=_reporter(env, as_json))
        outcome = None
        done = [o for o in result.outcomes if o.status == "completed"]
        bad_input = any(o.input_error is not None for o in result.outcomes)  # exit 3 below
        if len(done) == 2 and not result.interrupted and not bad_input:
            base = run_side(store, done[0].run_id, label=f"A ({result.variable.values[0]})")
            cand = run_side(store, done[1].run_id, label=f"B ({result.variable.values[1]})")
            outcome = compare_sides(base, cand, waivers=store.baselines.waivers(
                job=cand.job, platform=cand.platform))
        if as_json:
            doc = experiment_dict(store, result)
            doc["comparison"] = outcome.to_dict() if outcome else None
            env.print_json(doc)
        else:
            render(env, store, result, as_json)
            if outcome is not None:
                from perflab.report.compare import render_table

                render_table(env.console(), outcome)
    finally:
        store.close()
        host.transport.close()
    if _exit_status(env, result) and outcome is not None and outcome.regression:
        env.fail(ExitStatus.REGRESSION)
