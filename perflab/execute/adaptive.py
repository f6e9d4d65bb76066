"""Adaptive repetitions: while a verdict against the baseline is unknown, measure more.

After each batch the run so far is compared with the job's baseline (the
``compare.baseline`` name, or ``perflab run --baseline NAME``); for every
benchmark whose verdict is still ``unknown`` the statistics estimate how many
more runs would decide it, and the next batch adds the largest of those, up to
the job's budget (``repetitions.max_runs`` in total, ``repetitions.max_time``
seconds of measured time). Decisions are recorded with the run.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perflab.compare.engine import compare_sides
from perflab.compare.sides import Side, run_side
from perflab.errors import InputError
from perflab.model import ResultSet
from perflab.names import unmatched
from perflab.stats.adaptive import RUN_DRIFT

if TYPE_CHECKING:
    from perflab.execute.collect import StepRecord
    from perflab.spec.job import Job
    from perflab.store import Store


@dataclass
class Adaptive:
    baseline: str
    max_runs: int | None
    max_time: float | None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    #: ``--baseline`` asked for by name: a baseline that cannot be used is an input error
    #: (the job's own ``compare.baseline`` may not exist yet: its first runs become it)
    required: bool = False
    error: InputError | None = None

    @classmethod
    def for_job(cls, job: Job, baseline: str | None, store: Store) -> Adaptive | None:
        """The adaptive plan, or None; a ``--baseline`` that cannot apply is refused here,
        before anything runs."""
        name = baseline or (job.compare or {}).get("baseline")
        reps = job.repetitions
        if baseline and reps.max_runs is None and reps.max_time is None:
            raise InputError(
                "expected a job with repetitions.max_runs or max_time (the budget "
                "of adaptive repetitions), got neither",
                field="--baseline",
            )
        if not name or (reps.max_runs is None and reps.max_time is None):
            return None
        if not reps.fresh_process:
            raise InputError(
                "adaptive repetitions need one process per repetition",
                location=job.location("repetitions.fresh_process"),
                field="repetitions.fresh_process",
            )
        if baseline and not store.baselines.current(baseline, job=job.name):
            known = [r["name"] for r in store.baselines.current(job=job.name)]
            error = unmatched(f"a baseline of job {job.name}", baseline, known, field="--baseline")
            error.hint = "`perflab baseline set NAME RUN` makes a run a baseline"
            raise error
        return cls(name, reps.max_runs, reps.max_time, required=bool(baseline))

    def _baseline(self, store: Store, cand: Side) -> Side | None:
        try:
            record = store.baselines.resolve(
                self.baseline, job=cand.job, platform=cand.platform, branch=cand.branch
            )
        except InputError as exc:
            self._unusable(f"no baseline to adapt to: {exc}", exc)
            return None
        return run_side(store, record["run_id"], kind="baseline")

    def summary(self, done: int, fixed: int) -> str:
        """The run's adaptive flag: how many runs, and why none were added when the baseline
        could not be used (shown in the run's notes, not only in --json)."""
        last = self.decisions[-1] if self.decisions else {}
        if last and "baseline_run" not in last:
            return f"{done} runs, none added: {last['reason']}"
        text = f"{done} runs ({done - fixed} added against baseline {self.baseline})"
        if last and RUN_DRIFT in str(last.get("reason")):
            text += f"; stopped: {last['reason']}"
        return text

    def _unusable(self, reason: str, exc: InputError) -> None:
        self.decisions.append({"add": 0, "reason": reason})
        if self.required:
            self.error = InputError(exc.message, field="--baseline", hint=exc.hint)

    def more(self, store: Store, cand: Side, records: list[StepRecord]) -> int:
        """How many more repetitions of every benchmark to run now (0: stop)."""
        from perflab.compare.engine import settings_for
        from perflab.compare.runs import learned_spreads, widen_baseline
        from perflab.stats import Budget, plan_repetitions

        base = self._baseline(store, cand)
        if base is None:
            return 0
        try:
            runs = settings_for(cand.job_spec, {}).baseline_runs
            base = widen_baseline(store, base, cand, runs)
            outcome = compare_sides(
                base, cand, spreads=learned_spreads(store, cand, list(cand.groups))
            )
        except InputError as exc:
            self._unusable(f"cannot compare with the baseline: {exc}", exc)
            return 0
        walls = [r.event.get("wall_ns", 0) / 1e9 for r in records if r.kind == "run"]
        per_run = statistics.median(walls) * max(1, len({r.benchmark for r in records}))
        budget = Budget(
            max_runs=self.max_runs,
            max_time=self.max_time,
            time_per_run=per_run if walls else None,
            elapsed=sum(walls),
        )
        plans = [
            (row, plan_repetitions(row, budget))
            for row in outcome.report.rows
            if row.verdict == "unknown"
        ]
        add = max((plan.add for _, plan in plans), default=0)
        reason = max(plans, key=lambda p: p[1].add)[1].reason if plans else "no verdict is unknown"
        drift = [
            f"{row.benchmark} {row.metric}: {plan.reason}"
            for row, plan in plans
            if plan.reason.startswith(RUN_DRIFT)
        ]
        if add == 0 and drift:
            reason = drift[0] + (f" (and {len(drift) - 1} more)" if len(drift) > 1 else "")
        wanting = [
            f"{row.benchmark} {row.metric}: {plan.reason}" for row, plan in plans if plan.add
        ]
        self.decisions.append(
            {
                "add": add,
                "reason": reason,
                "unknown": len(plans),
                "baseline_run": base.run_id,
                "wanting": wanting,  # every row that asked for more, and why
            }
        )
        return add


def candidate_side(
    job: Job,
    run_id: str,
    parts: list[tuple[int | None, ResultSet]],
    env: dict[str, Any],
    platform: str,
    fingerprint: str | None,
    runner: str | None = None,
) -> Side:
    """The run in progress, as a comparison side (its samples keep their repetition)."""
    from perflab.compare.sides import groups_of
    from perflab.execute.collect import merged

    repetitions: dict[tuple[str, str], list[int | None]] = {}
    for rep, part in parts:
        for bench in part.benchmarks:
            for name, metric in bench.metrics.items():
                repetitions.setdefault((bench.name, name), []).extend([rep] * len(metric.samples))
    return Side(
        ref=run_id,
        kind="run",
        label=f"run {run_id} (in progress)",
        result=merged(parts),
        run_id=run_id,
        job=job.name,
        platform=platform,
        branch=(env.get("git") or {}).get("branch"),
        fingerprint=fingerprint,
        environment=env,
        status="completed",
        job_spec=job.raw,
        runner=runner,
        repetitions=repetitions,
        run_ids=[run_id],
        groups=groups_of(repetitions),
    )
