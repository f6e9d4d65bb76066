"""The flow of one run (DESIGN.md, "The way a job travels", without the queue):
:func:`start` (evidence, placement, steps, pinning), harness calls in batches
(:func:`request_for`, :func:`execute_steps`; adaptive runs add batches while the
verdict against a baseline is unknown), :func:`end` (outputs, samples, verdict).
:func:`run_job` is all of it for a plain run; experiments (A/B, --vary) call the
parts themselves to interleave their variants' rounds. The run's own state and
records are :class:`perflab.execute.runner.JobRun`'s.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from perflab import signals
from perflab.execute.adaptive import Adaptive, candidate_side
from perflab.execute.collect import collect
from perflab.execute.plan import bench_steps, harness_request, step_refs
from perflab.execute.runner import (
    JobRun,
    Reporter,
    RunInterrupted,
    RunOptions,
    RunOutcome,
    Surveyed,
)
from perflab.execute.workspace import open_workspace
from perflab.pinning.cpus import Placement
from perflab.pinning.plan import PinPlan
from perflab.spec.job import Job
from perflab.store import Store
from perflab.transport.base import Transport


@dataclass
class Started:
    """A run that has its evidence, placement and steps, before the harness starts."""

    env: dict[str, Any]
    placement: Placement
    steps: list[dict[str, Any]]
    pin: PinPlan | None = None


def start(
    run: JobRun, rundir: str, flags: list[dict[str, Any]], surveyed: Surveyed | None = None
) -> Started:
    from perflab.execute import pinning

    env, placement, steps = run.prepare(flags, surveyed)
    pin = pinning.plan_run(run, env, placement, rundir)
    if pin is not None:
        steps = pinning.with_pinning(pin, steps)
    return Started(env, placement, steps, pin)


def request_for(
    run: JobRun, started: Started, steps: list[dict[str, Any]], rundir: str
) -> dict[str, Any]:
    """The harness request for ``steps`` (all of the run's, or one round of an experiment)."""
    job, opts = run.job, run.opts
    checks = [{"program": b.program(), "field": b.where} for b in job.benchmarks if b.program()]
    request = harness_request(
        job,
        steps,
        workdir=job.workdir,
        rundir=rundir,
        cpus=started.placement.cpus,
        env={**opts.env, "PERFLAB_RUN_ID": run.run_id},
        cgroups=opts.cgroups,
    )
    request["check"] = checks
    request["watch_stdin"] = True
    if started.pin is not None:
        request.update(require=started.pin.require, sched=started.pin.sched)
    return request


def execute_steps(
    run: JobRun, started: Started, request: dict[str, Any], steps: list[dict[str, Any]]
) -> str:
    undo = run.transport.keep_controller_off(started.placement.cpus or [])
    try:
        return run.execute(request, step_refs(steps))
    finally:
        undo()


def end(run: JobRun, started: Started, problem: str) -> RunOutcome:
    """Outputs into files and rows, the pinning proof, samples, the verdict."""
    run.reporter.collecting(run.run_id)
    run.materialize()
    if started.pin is not None:
        from perflab.execute import pinning

        pinning.prove_run(run, started.pin)
    return run.finish(collect(run.job, run.records), problem, started.env)


def _batch(
    run: JobRun,
    started: Started,
    steps: list[dict[str, Any]],
    rundir: str,
    begin: float,
    *,
    first: bool,
) -> str:
    """One harness call; the job timeout counts across batches."""
    request = request_for(run, started, steps, rundir)
    request["job_timeout"] = max(run.job.job_timeout - (time.monotonic() - begin), 0.001)
    if not first:
        request["check"] = []  # programs were checked before the first batch
    name = "request.json" if first else f"request-{len(run.records)}.json"
    (run.raw_dir / name).write_text(json.dumps(request, indent=2), encoding="utf-8")
    return execute_steps(run, started, request, steps)


def _adapt(
    run: JobRun, started: Started, adaptive: Adaptive, rundir: str, begin: float, problem: str
) -> str:
    """While a verdict against the baseline is unknown, add batches of repetitions."""
    from perflab.execute import pinning

    job, done = run.job, run.job.repetitions.runs
    while (
        not problem
        and not run.interrupted
        and not run.missing
        and not run.lost
        and not run.done.get("job_timed_out")
    ):
        run.materialize()
        collected = collect(job, run.records)
        if collected.errors:
            break
        cand = candidate_side(
            job,
            run.run_id,
            collected.parts,
            started.env,
            run.platform,
            run.fingerprint,
            run.opts.runner,
        )
        add = adaptive.more(run.store, cand, run.records)
        if add <= 0:
            break
        extra = bench_steps(job, range(done + 1, done + add + 1))
        if started.pin is not None:
            extra = pinning.with_env(started.pin, extra)
        done += add
        problem = _batch(run, started, extra, rundir, begin, first=False)
    run.note_flag(
        {
            "code": "adaptive",
            "message": adaptive.summary(done, job.repetitions.runs),
            "evidence": {"decisions": adaptive.decisions},
        }
    )
    return problem


@contextlib.contextmanager
def abandon_on_error(runs: list[JobRun]) -> Iterator[None]:
    """Runs that an exception stops end failed (or interrupted), with the reason."""
    try:
        yield
    except BaseException as exc:
        for run in runs:
            run.abandon(exc)
        raise


def _run(run: JobRun, rundir: str, flags: list[dict[str, Any]]) -> RunOutcome:
    adaptive = Adaptive.for_job(run.job, run.opts.baseline, run.store)
    started = start(run, rundir, flags)
    begin = time.monotonic()
    run.reporter.started(run.run_id, len(started.steps))
    problem = _batch(run, started, started.steps, rundir, begin, first=True)
    if adaptive is not None:
        problem = _adapt(run, started, adaptive, rundir, begin, problem)
    outcome = end(run, started, problem)
    if adaptive is not None and outcome.input_error is None:
        outcome.input_error = adaptive.error  # --baseline could not be used: exit 3
    return outcome


def run_job(
    job: Job,
    transport: Transport,
    store: Store,
    opts: RunOptions | None = None,
    reporter: Reporter | None = None,
    *,
    flags: list[dict[str, Any]] | None = None,
) -> RunOutcome:
    """Run ``job`` once on the host behind ``transport`` and store everything."""
    opts = opts or RunOptions()
    run = JobRun(job, transport, store, opts, reporter or Reporter())
    workspace = open_workspace(job, transport, run.run_id, run.raw_dir / "steps")
    try:
        run.job = job = replace(job, workdir=workspace.workdir)
        with abandon_on_error([run]):
            outcome = _run(run, workspace.rundir, flags or [])
    finally:
        workspace.close(transport)
    if outcome.status == "interrupted":  # after the workspace is gone
        raise RunInterrupted(
            f"run {outcome.run_id} interrupted{signals.by()}; kept what was "
            f"measured "
            f"({outcome.result.sample_count()} samples)",
            outcome,
        )
    return outcome
