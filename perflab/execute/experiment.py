"""Run a one-variable experiment: the variants interleaved on one prepared runner.

``perflab run JOB --vary NAME=V1,V2`` prepares the runner once (when a profile
is given), creates one run per value, and then executes them in rounds: round
1 is each variant's setup, probes, warmups and first repetition, round r its
r-th repetition. Within a round the variants take turns, in order in odd rounds
and in reverse in even ones (A B, B A, A B ...), so drift of the host during
the experiment hits every variant alike. Before round 1 every variant's
harness checks what would refuse it (a runtime not installed, a policy the
host does not allow): one refusal stops the experiment before anything runs.

The runs share an ``experiment`` id; each run's ``variant`` records the key,
its value and what was held fixed, so a comparison can find them together.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from perflab import signals
from perflab.errors import InputError
from perflab.execute.collect import StepRecord
from perflab.execute.flow import Started, abandon_on_error, end, execute_steps, request_for, start
from perflab.execute.prepared import prepared
from perflab.execute.runner import (
    JobRun,
    Reporter,
    RunInterrupted,
    RunOptions,
    RunOutcome,
    Surveyed,
)
from perflab.execute.vary import Variable, variant_jobs
from perflab.execute.workspace import Workspace, open_workspace
from perflab.spec.job import Job

if TYPE_CHECKING:
    from perflab.prepare.host import RunnerHost
    from perflab.spec.playbook import Profile
    from perflab.store import Store


@dataclass
class ExperimentOutcome:
    experiment: str
    variable: Variable
    outcomes: list[RunOutcome]
    rounds: list[list[int]]  # per round, the variants' turns
    counted_rounds: int = 0  # the last rounds: counted repetitions (docs/counters.md)

    @property
    def interrupted(self) -> bool:
        return any(o.status == "interrupted" for o in self.outcomes)

    def interruption(self) -> RunInterrupted:
        first = next(o for o in self.outcomes if o.status == "interrupted")
        return RunInterrupted(
            f"experiment {self.experiment} interrupted{signals.by()}; kept what was measured", first
        )


class _Shared(Reporter):
    """One progress display for every run of the experiment (started and finished once)."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner

    def step(self, record: StepRecord, label: str) -> None:
        self.inner.step(record, label)

    def collecting(self, run_id: str) -> None:
        self.inner.collecting(run_id)

    def finished(self) -> None: ...


@dataclass
class _Variant:
    run: JobRun
    workspace: Workspace
    started: Started | None = None
    problem: str = ""
    stopped: bool = False
    spent: float = 0.0


def timed_rounds(steps: list[dict[str, Any]]) -> int:
    """The rounds a variant's timed steps take (its last repetition's)."""
    return max((s["index"] for s in steps if s["kind"] == "run"), default=1 if steps else 0)


def chunks(
    steps: list[dict[str, Any]], after: int | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Steps by round: setup, probes and warmups go with the first repetition; counted
    repetition c (docs/counters.md) has round ``after + c``, after every timed one
    (``after``: the experiment's last timed round; this variant's by default), so the
    variants' counts are interleaved too and no count runs between two timed rounds."""
    after = timed_rounds(steps) if after is None else after
    out: dict[int, list[dict[str, Any]]] = {}
    for step in steps:
        if step["kind"] == "count":
            round_no = after + step["index"]
        else:
            round_no = step["index"] if step["kind"] == "run" else 1
        out.setdefault(round_no, []).append(step)
    return out


def turns(count: int, round_no: int, *, order: str = "abba", seed: int = 0) -> list[int]:
    """Who goes first in a round: alternating (A B, B A, ...: ABBA) or a seeded shuffle."""
    turn = list(range(count))
    if order == "random":
        random.Random(seed * 100_003 + round_no).shuffle(turn)
        return turn
    return turn if round_no % 2 == 1 else turn[::-1]


def _variant_record(
    variable: Variable,
    index: int,
    job: Job,
    opts: RunOptions,
    profile: Profile | None,
    experiment: str,
) -> dict[str, Any]:
    return {
        "experiment": experiment,
        "key": variable.key,
        "value": variable.values[index],
        "index": index,
        "values": variable.values,
        "order": "alternating rounds",
        "fixed": {
            "job": job.name,
            "job_sha256": job.sha256,
            "runner": opts.runner,
            "profile": profile.name if profile else None,
            "env": opts.env,
        },
    }


@contextmanager
def _variants(
    jobs: list[Job],
    host: RunnerHost,
    store: Store,
    opts: RunOptions,
    reporter: Reporter,
    records: list[dict[str, Any]],
) -> Iterator[list[_Variant]]:
    variants: list[_Variant] = []
    try:
        for job, record in zip(jobs, records, strict=True):
            run_opts = replace(
                opts, experiment=record["experiment"], variant=record, run_id=None
            )  # each variant is a run of its own
            run = JobRun(job, host.transport, store, run_opts, reporter)
            workspace = open_workspace(job, host.transport, run.run_id, run.raw_dir / "steps")
            run.job = replace(job, workdir=workspace.workdir)
            variants.append(_Variant(run, workspace))
        yield variants
    finally:
        for variant in variants:
            variant.workspace.close(host.transport)


def _write_variant(run: JobRun, record: dict[str, Any]) -> None:
    """The run folder's job.yaml is this variant's job, not the file it was made from."""
    import yaml

    header = (
        f"# variant {record['index']} of experiment {record['experiment']}: "
        f"{record['key']}={record['value']} (made from {run.job.path})\n"
    )
    text = yaml.safe_dump(run.job.raw, sort_keys=False)
    (run.raw_dir / "job.yaml").write_text(header + text, encoding="utf-8")


def _execute(variant: _Variant, steps: list[dict[str, Any]], tag: str) -> None:
    run, started = variant.run, variant.started
    assert started is not None
    request = request_for(run, started, steps, variant.workspace.rundir)
    request["job_timeout"] = max(run.job.job_timeout - variant.spent, 0.001)
    (run.raw_dir / f"request-{tag}.json").write_text(
        json.dumps(request, indent=2), encoding="utf-8"
    )
    run.done = {}
    begin = time.monotonic()
    problem = execute_steps(run, started, request, steps)
    variant.spent += time.monotonic() - begin
    variant.problem = variant.problem or problem
    setup_failed = any(r.kind == "setup" and not r.ok for r in run.records)
    variant.stopped = bool(
        run.missing or run.lost or problem or setup_failed or run.done.get("job_timed_out")
    )


def _interleaved(variants: list[_Variant], order: str = "abba", seed: int = 0) -> list[list[int]]:
    """The rounds; Ctrl-C between two harness calls ends every run as interrupted."""
    try:
        return _rounds(variants, order, seed)
    except KeyboardInterrupt:
        for variant in variants:
            variant.run.interrupted = True
        return []


def _survey(job: Job, variants: list[_Variant]) -> list[Surveyed]:
    """Every variant's survey before any run is stored: a variant its runner refuses (a
    counter it cannot count, a workdir it lacks) stops the experiment with nothing stored
    and nothing run. Refused alike in every variant, the error points at the job's line."""
    surveys: list[Surveyed] = []
    refusals: list[InputError] = []
    for variant in variants:
        try:
            surveys.append(variant.run.survey())
        except InputError as exc:
            refusals.append(exc)
    if not refusals:
        return surveys
    first = refusals[0]
    alike = len(refusals) == len(variants) and len({e.message for e in refusals}) == 1
    if alike and first.field and job.positions is not None:
        raise InputError(
            first.message, location=job.location(first.field), field=first.field, hint=first.hint
        ) from None
    raise first


def _refused(variants: list[_Variant]) -> bool:
    """Ask every variant's harness what would refuse it, before anything runs."""
    for i, variant in enumerate(variants):
        _execute(variant, [], f"check{i}")
    refused = [v for v in variants if v.run.missing]
    for variant in variants:
        if not variant.run.missing and refused:
            variant.problem = (
                f"not run: variant {refused[0].run.opts.variant or {}} was "
                "refused, so the experiment did not start"
            )
    return bool(refused)


def _rounds(variants: list[_Variant], order: str = "abba", seed: int = 0) -> list[list[int]]:
    steps = [v.started.steps for v in variants if v.started is not None]
    timed = max((timed_rounds(s) for s in steps), default=0)
    plan = [chunks(s, timed) for s in steps]
    count = max((max(c) for c in plan if c), default=0)
    schedule = []
    for round_no in range(1, count + 1):
        order_now = turns(len(variants), round_no, order=order, seed=seed)
        schedule.append(order_now)
        for i in order_now:
            variant = variants[i]
            if variant.stopped or round_no not in plan[i]:
                continue
            _execute(variant, plan[i][round_no], f"r{round_no}")
            if variant.run.interrupted:  # Ctrl-C: every run ends as interrupted
                for other in variants:
                    other.run.interrupted = True
                return schedule
    return schedule


def run_experiment(
    job: Job,
    variable: Variable,
    host: RunnerHost,
    store: Store,
    *,
    profile: Profile | None,
    opts: RunOptions,
    reporter: Reporter | None = None,
    probe: bool = True,
    jobs: list[Job] | None = None,
    order: str = "abba",
    seed: int = 0,
) -> ExperimentOutcome:
    """Run every variant of ``job`` interleaved on ``host``; one run per value. An
    interrupted experiment is returned (``interrupted``), with what was measured.
    ``jobs`` gives the variants ready-made (A/B between git refs)."""
    jobs = jobs if jobs is not None else variant_jobs(job, variable, opts.pin)
    experiment = f"exp-{secrets.token_hex(4)}"
    records = [
        _variant_record(variable, i, job, opts, profile, experiment) for i in range(len(jobs))
    ]
    reporter = reporter or Reporter()
    with (
        prepared(host, profile, opts, probe=probe, what=f"experiment {experiment}") as (
            ready,
            flags,
        ),
        _variants(jobs, host, store, ready, _Shared(reporter), records) as variants,
        abandon_on_error([v.run for v in variants]),
    ):
        surveys = _survey(job, variants)
        for variant, record, surveyed in zip(variants, records, surveys, strict=True):
            variant.started = start(variant.run, variant.workspace.rundir, flags, surveyed)
            _write_variant(variant.run, record)
        reporter.started(experiment, sum(len(v.started.steps) for v in variants if v.started))
        schedule = [] if _refused(variants) else _interleaved(variants, order, seed)
        outcomes = [end(v.run, v.started, v.problem) for v in variants if v.started]
        reporter.finished()
        timed = max((timed_rounds(v.started.steps) for v in variants if v.started), default=0)
    return ExperimentOutcome(
        experiment, variable, outcomes, schedule, max(len(schedule) - timed, 0)
    )
