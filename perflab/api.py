"""The library's entry point for running a job: a request in, a result out.

The command line (``perflab run``), a queue worker and the tests all call
:func:`run`. It chooses the kind of run the request asks for (a plain run, an
A/B job's interleaved variants and their paired comparison, or ``--vary``'s
one run per value), opens the runner with its registered settings (platform,
housekeeping CPUs), holds the host lock, prepares and restores, and stores
everything. It owns the lifetimes of the runner's connection and, unless it is
given one, of the store. Callers render the result; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perflab.errors import ExitStatus, InputError, PerflabError

if TYPE_CHECKING:
    from perflab.compare.engine import Outcome as CompareOutcome
    from perflab.execute.experiment import ExperimentOutcome
    from perflab.execute.runner import Reporter, RunInterrupted, RunOptions, RunOutcome
    from perflab.execute.vary import Variable
    from perflab.prepare.host import RunnerHost
    from perflab.spec.job import Job
    from perflab.spec.playbook import Profile
    from perflab.store import Store


@dataclass(frozen=True)
class RunRequest:
    """What to run, where, and how (everything ``perflab run`` takes, parsed)."""

    job: Job
    runner: str = "local"
    profile: Profile | None = None  # None: the job's own ``profile``, if any
    env: Mapping[str, str] = field(default_factory=dict)
    baseline: str | None = None  # adaptive repetitions against this baseline
    vary: Variable | None = None  # one run per value, interleaved
    lock_wait: float | None = None  # seconds to wait for a busy runner (None: default)
    run_id: str | None = None  # a plain run's id, chosen by the caller (a queued job)
    #: the queued job this request runs: its worker holds the runner's lease already
    job_id: str | None = None
    sweep_run_id: str | None = None  # the sweep run that queued the job


@dataclass
class RunResult:
    """What a request produced: the stored runs in order, and how it ended."""

    kind: str  # "run" | "experiment" | "ab"
    outcomes: list[RunOutcome]
    runs: list[dict[str, Any]]  # each run as stored (``results show --json``)
    experiment: ExperimentOutcome | None = None
    comparison: CompareOutcome | None = None  # A/B: the paired comparison of B against A
    interruption: RunInterrupted | None = None  # stopped by a signal; what ran is kept
    input_error: InputError | None = None  # bad input found while running (exit 3)

    @property
    def problem(self) -> PerflabError | None:
        """The error a caller raises after showing the result (exit 130+ or 3)."""
        return self.interruption or self.input_error

    @property
    def exit_status(self) -> ExitStatus:
        """0 every run completed, 1 one failed, 2 the comparison (A/B, or against the
        baseline) found a regression or a gate failed, 4 it could not measure, 3 bad input,
        130 interrupted (128 + the signal: see perflab.signals)."""
        if self.interruption is not None:
            return ExitStatus.INTERRUPTED
        if self.input_error is not None:
            return ExitStatus.INVALID_INPUT
        if any(o.status != "completed" for o in self.outcomes):
            return ExitStatus.ERROR
        if self.comparison is not None:
            return self.comparison.exit_status  # 2 regressed, 4 could not measure: as compare
        return ExitStatus.OK


def run(
    request: RunRequest, store: Store | None = None, *, reporter: Reporter | None = None
) -> RunResult:
    """Run ``request`` and store everything (in ``store``, or the configured store)."""
    from perflab.runners import open_runner
    from perflab.store import open_store

    _check(request)
    if request.job.raw.get("matrix") and not request.job.matrix:
        return _matrix(request, store, reporter)
    own = store is None
    store = store or open_store()
    try:
        host = open_runner(request.runner, store, for_run=True)
        try:
            if request.job_id is not None:
                return _dispatch(request, host, store, reporter)
            return _leased(request, host, store, reporter)
        finally:
            host.transport.close()
    finally:
        if own:
            store.close()


def _matrix(request: RunRequest, store: Store | None, reporter: Reporter | None) -> RunResult:
    """A job matrix: each combination in turn, one run each (stops when one is
    interrupted or finds bad input)."""
    from dataclasses import replace

    from perflab.spec.matrix import expand

    merged = RunResult("matrix", [], [])
    for cell in expand(request.job):
        result = run(replace(request, job=cell, run_id=None), store, reporter=reporter)
        merged.outcomes += result.outcomes
        merged.runs += result.runs
        if result.problem is not None:
            merged.interruption, merged.input_error = result.interruption, result.input_error
            break
    return merged


def _leased(
    request: RunRequest, host: RunnerHost, store: Store, reporter: Reporter | None
) -> RunResult:
    """A direct run holds the runner's lease in the store, as a queued job's worker does:
    the queue never sends a job to a runner a person is measuring on."""
    import os
    import socket
    from dataclasses import replace

    from perflab.execute.lease import runner_lease
    from perflab.execute.runner import new_run_id
    from perflab.prepare.lock import default_wait

    plain = request.vary is None and request.job.raw.get("ab") is None
    if plain and request.run_id is None:
        request = replace(request, run_id=new_run_id())
    what = f"run {request.run_id}" if plain else "perflab run"
    holder = f"{what} (pid {os.getpid()} on {socket.gethostname()})"
    wait = default_wait() if request.lock_wait is None else request.lock_wait
    with runner_lease(store, request.runner, holder, wait=wait):
        return _dispatch(request, host, store, reporter)


def _check(request: RunRequest) -> None:
    if request.job.raw.get("ab") is not None and request.vary is not None:
        raise InputError(
            "a job in A/B mode already varies one thing; drop --vary or ab:", field="--vary"
        )
    if request.job.runs > 1 and request.vary is not None:
        raise InputError(
            f"expected either --vary or runs: {request.job.raw.get('runs')} (--vary's "
            "variants take turns in interleaved rounds already), got both",
            field="--vary",
        )


def _options(request: RunRequest, host: RunnerHost) -> RunOptions:
    """The run's options: the request's, and the runner's registered settings."""
    from perflab.execute.runner import RunOptions

    housekeeping = host.vars.get("perflab_housekeeping_cpus")
    return RunOptions(
        runner=request.runner,
        env=dict(request.env),
        baseline=request.baseline,
        lock_wait=request.lock_wait,
        run_id=request.run_id,
        job_id=request.job_id,
        sweep_run_id=request.sweep_run_id,
        platform=host.platform,
        housekeeping=str(housekeeping) if housekeeping not in (None, "") else None,
    )


def _profile(request: RunRequest) -> Profile | None:
    from perflab.spec.playbook import load_profile

    if request.profile is not None:
        return request.profile
    return load_profile(request.job.profile) if request.job.profile else None


def _dispatch(
    request: RunRequest, host: RunnerHost, store: Store, reporter: Reporter | None
) -> RunResult:
    opts = _options(request, host)
    profile = _profile(request)
    if request.job.raw.get("ab") is not None:
        return _ab(request, host, store, profile, opts, reporter)
    if request.vary is not None:
        from perflab.execute.experiment import run_experiment

        experiment = run_experiment(
            request.job, request.vary, host, store, profile=profile, opts=opts, reporter=reporter
        )
        return _from_experiment("experiment", experiment, store)
    return _plain(request, host, store, profile, opts, reporter)


def _plain(
    request: RunRequest,
    host: RunnerHost,
    store: Store,
    profile: Profile | None,
    opts: RunOptions,
    reporter: Reporter | None,
) -> RunResult:
    from perflab.execute.prepared import run_on_runner
    from perflab.execute.runner import RunInterrupted

    interruption = None
    try:
        outcome = run_on_runner(
            request.job, host, store, profile=profile, opts=opts, reporter=reporter
        )
    except RunInterrupted as exc:
        outcome, interruption = exc.outcome, exc
    result = RunResult(
        "run",
        [outcome],
        [store.runs.get(outcome.run_id).to_dict()],
        interruption=interruption,
        input_error=outcome.input_error,
    )
    if result.problem is None:
        try:
            result.comparison = _against_baseline(request, store, outcome.run_id)
        except InputError as exc:  # --baseline that cannot be used: the run is kept, exit 3
            result.input_error = exc
    return result


def _against_baseline(request: RunRequest, store: Store, run_id: str) -> CompareOutcome | None:
    """A completed run with a baseline (``--baseline``, the job's ``compare.baseline``) is
    compared with it as ``perflab compare BASELINE RUN`` would: same verdicts, gates and
    exit status. A job's own baseline that does not exist yet compares nothing."""
    from perflab.compare.engine import compare_stored

    name = request.baseline or (request.job.compare or {}).get("baseline")
    if not name or store.runs.get(run_id).status != "completed":
        return None
    if not store.baselines.current(name, job=request.job.name):
        return None
    try:
        return compare_stored(store, name, run_id)
    except InputError:
        if request.baseline:
            raise
        return None


def _from_experiment(kind: str, experiment: ExperimentOutcome, store: Store) -> RunResult:
    errors = [o.input_error for o in experiment.outcomes if o.input_error is not None]
    return RunResult(
        kind,
        list(experiment.outcomes),
        [store.runs.get(o.run_id).to_dict() for o in experiment.outcomes],
        experiment=experiment,
        interruption=experiment.interruption() if experiment.interrupted else None,
        input_error=errors[0] if errors else None,
    )


def _ab(
    request: RunRequest,
    host: RunnerHost,
    store: Store,
    profile: Profile | None,
    opts: RunOptions,
    reporter: Reporter | None,
) -> RunResult:
    """Both variants interleaved on one host, then B compared with A on paired ratios."""
    from perflab.compare.engine import compare_sides
    from perflab.compare.sides import run_side
    from perflab.execute.ab import run_ab

    experiment = run_ab(request.job, host, store, profile=profile, opts=opts, reporter=reporter)
    result = _from_experiment("ab", experiment, store)
    done = [o for o in experiment.outcomes if o.status == "completed"]
    if len(done) == 2 and result.problem is None:
        values = experiment.variable.values
        base = run_side(store, done[0].run_id, label=f"A ({values[0]})")
        cand = run_side(store, done[1].run_id, label=f"B ({values[1]})")
        result.comparison = compare_sides(
            base, cand, waivers=store.baselines.waivers(job=cand.job, platform=cand.platform)
        )
    return result
