"""Runs: create, record repetitions and samples as they arrive, finish, read back."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from perflab.errors import InputError
from perflab.model import ResultSet
from perflab.store.models import (
    Artifact,
    BenchmarkRow,
    Environment,
    MetricRow,
    Repetition,
    Run,
)
from perflab.store.packed import unpack_many, unpack_repetitions, unpack_values
from perflab.store.retry import retrying_methods

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from perflab.store.files import Kept, Limits, Source, StoredFile
    from perflab.store.leases import Fence
    from perflab.store.packed import FloatArray

REPETITION_FIELDS = (
    "step",
    "kind",
    "benchmark",
    "index",
    "exit_status",
    "signal",
    "timed_out",
    "wall_ns",
    "user_ns",
    "sys_ns",
    "maxrss_kb",
    "nvcsw",
    "nivcsw",
    "other_share",
    "steal_share",
    "runnable",
    "evidence_window",
    "stdout_path",
    "stderr_path",
    "output_path",
    "stderr_tail",
    "error",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything perflab stores is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass
class RunView:
    """A run as read back: the row's fields plus its children as plain data."""

    id: str
    job: str
    runner: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    fields: dict[str, Any]
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    repetitions: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    result: ResultSet = field(default_factory=ResultSet)
    files: dict[str, Any] = field(default_factory=dict)  # the raw files in the store: a summary
    #: per (benchmark, metric): the repetition of each sample, in sample order
    sample_repetitions: dict[tuple[str, str], list[int | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.result.to_dict()
        data.update(
            {
                "run_id": self.id,
                "job": self.job,
                "runner": self.runner,
                "platform": self.fields.get("platform"),
                "status": self.status,
                "message": self.fields.get("message"),
                "flags": self.fields.get("flags") or [],
                "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "fingerprint": self.fields.get("fingerprint"),
                "tuning": self.fields.get("tuning"),
                "git": {
                    "commit": self.fields.get("git_commit"),
                    "dirty": self.fields.get("git_dirty"),
                    "branch": self.fields.get("branch"),
                },
                "tags": self.fields.get("tags") or [],
                "experiment": self.fields.get("experiment"),
                "variant": self.fields.get("variant"),
                "sweep_run_id": self.fields.get("sweep_run_id"),
                "matrix": self.fields.get("matrix") or {},
                "job_sha256": self.fields.get("job_sha256"),
                "job_path": self.fields.get("job_path"),
                "run_parts": _run_parts(self.fields.get("job_spec") or {}),
                "raw_dir": self.fields.get("raw_dir"),
                "perflab_version": self.fields.get("perflab_version"),
                "environment": self.environments.get("before", {}),
                "environment_after": self.environments.get("after", {}),
                "environments": self.environments,
                "repetitions": self.repetitions,
                "artifacts": self.artifacts,
                "files": self.files,
            }
        )
        return data


def _run_parts(spec: dict[str, Any]) -> dict[str, int] | None:
    """A ``runs: N`` job's run: N runs of P processes (repetitions (k-1)*P+1 .. k*P are
    run k); None for a run that is one run."""
    from perflab.spec.job import processes_per_run, run_parts

    per_run = processes_per_run(spec)
    return None if per_run is None else {"runs": run_parts(spec)[0], "processes": per_run}


@retrying_methods
class RunStore:
    def __init__(self, sessions: sessionmaker[Session], *, fence: Fence | None = None) -> None:
        self._sessions = sessions
        self._fence = fence  # a queued job's lease: every write checks it

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction; with a fence, it first checks that the job's lease is
        still this writer's (else LeaseLost, and nothing is written)."""
        with self._sessions.begin() as session:
            if self._fence is not None:
                from perflab.store.leases import check_fence

                check_fence(session, self._fence)
            yield session

    # -- writing -------------------------------------------------------------------------

    def create_run(self, run_id: str, **values: Any) -> None:
        values.setdefault("started_at", utcnow())
        values.setdefault("flags", [])
        values.setdefault("tags", [])
        with self._write() as session:
            session.add(Run(id=run_id, **values))

    def close_lost(
        self,
        is_gone: Callable[[dict[str, Any] | None], bool],
        describe: Callable[[dict[str, Any] | None], str],
    ) -> list[str]:
        """End the runs still "running" whose controller ``is_gone`` (died without
        ending them) as failed, with the reason; returns their ids."""
        closed = []
        with self._sessions.begin() as session:
            rows = session.execute(select(Run).where(Run.status == "running")).scalars()
            for run in rows:
                if is_gone(run.controller):
                    run.status = "failed"
                    run.message = (
                        f"controller lost: {describe(run.controller)} ended "
                        "without finishing this run; the raw outputs it wrote "
                        "are kept in its run folder"
                    )
                    run.finished_at = utcnow()
                    closed.append(run.id)
        return closed

    def update_run(self, run_id: str, **values: Any) -> None:
        with self._write() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise KeyError(run_id)
            for key, value in values.items():
                setattr(run, key, value)

    def add_repetition(self, run_id: str, record: dict[str, Any]) -> None:
        self.add_repetitions(run_id, [record])

    def add_repetitions(self, run_id: str, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        with self._write() as session:
            session.execute(
                insert(Repetition),
                [
                    {"run_id": run_id, **{k: r.get(k) for k in REPETITION_FIELDS if k in r}}
                    for r in records
                ],
            )

    def add_environment(self, run_id: str, phase: str, data: dict[str, Any]) -> None:
        cpu = data.get("cpu") or {}
        with self._write() as session:
            session.add(
                Environment(
                    run_id=run_id,
                    phase=phase,
                    hostname=data.get("hostname"),
                    kernel=data.get("kernel"),
                    cpu_model=cpu.get("model"),
                    data=data,
                )
            )

    def add_artifacts(self, run_id: str, files: Iterable[dict[str, Any]]) -> None:
        with self._write() as session:
            session.add_all(Artifact(run_id=run_id, **f) for f in files)

    def add_results(self, run_id: str, parts: Sequence[tuple[int | None, ResultSet]]) -> None:
        """Store samples; each part is (repetition number or None, what it measured).

        Core inserts (one statement per table, ids back by RETURNING), not ORM objects:
        300,000 samples are a fraction of a second on SQLite (bench/aggregate)."""
        from perflab.store import ingest

        with self._write() as session:
            ingest.add_results(session, run_id, parts)

    def put_files(
        self, run_id: str, sources: Sequence[Source], limits: Limits | None = None
    ) -> Kept:
        """Store the run's raw files (replacing those stored before) within ``limits``
        (default: from the environment); a file cut to fit flags the run
        (:mod:`perflab.store.files`)."""
        from perflab.store import files

        limits = limits or files.Limits.from_env()
        with self._write() as session:
            return files.put(session, run_id, sources, limits, utcnow())

    # -- reading -------------------------------------------------------------------------

    def resolve(self, run_ref: str) -> str:
        """A full run id from an id or a unique prefix of at least 4 characters."""
        with self._sessions() as session:
            if session.get(Run, run_ref) is not None:
                return run_ref
            if len(run_ref) >= 4:
                found = session.scalars(
                    select(Run.id).where(Run.id.startswith(run_ref, autoescape=True)).limit(2)
                ).all()
                if len(found) == 1:
                    return found[0]
                if len(found) > 1:
                    raise InputError(f'run id prefix "{run_ref}" is ambiguous; give more of it')
        raise InputError(f'no run "{run_ref}" in the store (see `perflab results list`)')

    def get(self, run_ref: str) -> RunView:
        from perflab.store import files, ingest

        run_id = self.resolve(run_ref)
        with self._sessions() as session:
            run = session.scalars(
                select(Run)
                .where(Run.id == run_id)
                .options(
                    selectinload(Run.repetitions),
                    selectinload(Run.environments),
                    selectinload(Run.artifacts),
                )
            ).one()
            view = _view(run)
            view.result, view.sample_repetitions = ingest.read_result(session, run_id)
            view.files = files.summary(session, run_id)
            return view

    def files(self, run_ref: str) -> builtins.list[dict[str, Any]]:
        """The run's stored raw files, by name, without their content."""
        from perflab.store import files

        run_id = self.resolve(run_ref)
        with self._sessions() as session:
            return files.listing(session, run_id)

    def read_file(self, run_ref: str, name: str) -> StoredFile:
        """One stored raw file of the run, decompressed and verified."""
        from perflab.store import files

        run_id = self.resolve(run_ref)
        with self._sessions() as session:
            return files.read(session, run_id, name)

    def read_files(self, run_ref: str, names: Iterable[str]) -> Iterator[StoredFile]:
        """The run's stored files among ``names``, in that order, decompressed and
        verified (a name not stored is skipped); fetched a few MiB at a time."""
        from perflab.store import files

        run_id = self.resolve(run_ref)
        with self._sessions() as session:
            yield from files.read_many(session, run_id, names)

    def outputs(self, run_ref: str) -> tuple[str, str | None, builtins.list[dict[str, Any]]]:
        """The run's id, its folder (on the machine that ran it), and each step's output
        paths in the order the steps ran (no samples are loaded)."""
        run_id = self.resolve(run_ref)
        with self._sessions() as session:
            raw_dir = session.scalars(select(Run.raw_dir).where(Run.id == run_id)).one()
            rows = session.execute(
                select(Repetition.step, Repetition.stdout_path, Repetition.stderr_path)
                .where(Repetition.run_id == run_id)
                .order_by(Repetition.id)
            ).all()
        return (
            run_id,
            raw_dir,
            [{"step": step, "stdout_path": out, "stderr_path": err} for step, out, err in rows],
        )

    def result(self, run_ref: str) -> ResultSet:
        return self.get(run_ref).result

    def metric_table(
        self, run_id: str
    ) -> tuple[builtins.list[tuple[str, str]], builtins.list[int], FloatArray]:
        """A run's samples in bulk, for histories: the (benchmark, metric) keys, how many
        values each has, and all the values end to end (read-only). Ordered by benchmark
        name, then as stored: runs of one job list their keys alike, and SQLite reads that
        order off the (run_id, name) index, where ordering by metric id alone sorts."""
        query = (
            select(BenchmarkRow.name, MetricRow.name, MetricRow.sample_values)
            .join(MetricRow, MetricRow.benchmark_id == BenchmarkRow.id)
            .where(BenchmarkRow.run_id == run_id)
            .order_by(BenchmarkRow.name, MetricRow.id)
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        lengths, values = unpack_many([blob for _, _, blob in rows])
        return [(b, m) for b, m, _ in rows], lengths, values

    def sample_rows(self, run_id: str) -> list[dict[str, Any]]:
        """Every sample of a run with its benchmark and metric, in stored order."""
        query = (
            select(
                BenchmarkRow.name,
                BenchmarkRow.params,
                MetricRow.name,
                MetricRow.unit,
                MetricRow.direction,
                MetricRow.sample_values,
                MetricRow.sample_repetitions,
            )
            .join(MetricRow, MetricRow.benchmark_id == BenchmarkRow.id)
            .where(BenchmarkRow.run_id == run_id)
            .order_by(BenchmarkRow.id, MetricRow.id)
        )
        out: list[dict[str, Any]] = []
        with self._sessions() as session:
            for b, p, m, u, d, blob, rep_blob in session.execute(query):
                values = unpack_values(blob)
                reps = unpack_repetitions(rep_blob, len(values))
                out.extend(
                    {
                        "benchmark": b,
                        "params": p or {},
                        "metric": m,
                        "unit": u,
                        "direction": d,
                        "seq": seq,
                        "repetition": rep,
                        "value": v,
                    }
                    for seq, (rep, v) in enumerate(zip(reps, values, strict=True))
                )
        return out

    def metric_names(self, job: str) -> list[tuple[str, str]]:
        """(benchmark, metric) pairs of the job's completed runs, in the order first stored."""
        first = func.min(MetricRow.id)
        query = (
            select(BenchmarkRow.name, MetricRow.name)
            .join(MetricRow, MetricRow.benchmark_id == BenchmarkRow.id)
            .join(Run, Run.id == BenchmarkRow.run_id)
            .where(Run.job == job, Run.status == "completed")
            .group_by(BenchmarkRow.name, MetricRow.name)
            .order_by(first)
        )
        with self._sessions() as session:
            return [(bench, metric) for bench, metric in session.execute(query).all()]

    def series(
        self,
        job: str,
        benchmark: str,
        metric: str,
        *,
        platform: str | None = None,
        branch: str | None = None,
        runner: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """One metric of one benchmark across completed runs of a job, oldest first."""
        query = (
            select(
                Run.id,
                Run.started_at,
                Run.git_commit,
                Run.branch,
                Run.runner,
                Run.platform,
                MetricRow.unit,
                MetricRow.direction,
                MetricRow.sample_values,
            )
            .join(BenchmarkRow, BenchmarkRow.run_id == Run.id)
            .join(MetricRow, MetricRow.benchmark_id == BenchmarkRow.id)
            .where(
                Run.job == job,
                Run.status == "completed",
                BenchmarkRow.name == benchmark,
                MetricRow.name == metric,
            )
            .order_by(Run.started_at, Run.id)
        )
        for column, wanted in (
            (Run.platform, platform),
            (Run.branch, branch),
            (Run.runner, runner),
        ):
            if wanted is not None:
                query = query.where(column == wanted)
        runs: dict[str, dict[str, Any]] = {}
        with self._sessions() as session:
            for rid, started, commit, br, rn, pf, unit, direction, blob in session.execute(
                query
            ).all():
                entry = runs.setdefault(
                    rid,
                    {
                        "run_id": rid,
                        "started_at": (_aware(started) or utcnow()).isoformat(),
                        "git_commit": commit,
                        "branch": br,
                        "runner": rn,
                        "platform": pf,
                        "unit": unit,
                        "direction": direction,
                        "samples": [],
                    },
                )
                entry["samples"].extend(unpack_values(blob))
        return list(runs.values())[-limit:]

    def recent(
        self,
        job: str,
        *,
        runner: str | None,
        platform: str | None,
        fingerprint: str | None,
        until: str | None = None,
        limit: int = 20,
    ) -> builtins.list[dict[str, Any]]:
        """Completed runs of one evidence class (job, runner, platform, fingerprint), newest
        first, started no later than run ``until``: a baseline's predecessors, a history."""
        query = (
            select(Run.id, Run.flags, Run.job_spec)
            .where(Run.job == job, Run.status == "completed")
            .order_by(Run.started_at.desc(), Run.id.desc())
            .limit(limit)
        )
        for column, wanted in (
            (Run.runner, runner),
            (Run.platform, platform),
            (Run.fingerprint, fingerprint),
        ):
            if wanted is not None:
                query = query.where(column == wanted)
        if until is not None:
            start = select(Run.started_at).where(Run.id == until).scalar_subquery()
            query = query.where(Run.started_at <= start)
        with self._sessions() as session:
            return [
                {"run_id": rid, "flags": flags or [], "job_spec": spec or {}}
                for rid, flags, spec in session.execute(query).all()
            ]

    def list(
        self,
        *,
        job: str | None = None,
        runner: str | None = None,
        status: str | None = None,
        experiment: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        with self._sessions() as session:
            counts = (
                select(BenchmarkRow.run_id, func.count(BenchmarkRow.id).label("n"))
                .group_by(BenchmarkRow.run_id)
                .subquery()
            )
            query = (
                select(Run, counts.c.n)
                .outerjoin(counts, counts.c.run_id == Run.id)
                .order_by(Run.started_at.desc())
                .limit(limit)
            )
            if job:
                query = query.where(Run.job == job)
            if runner:
                query = query.where(Run.runner == runner)
            if status:
                query = query.where(Run.status == status)
            if experiment:  # the runs of one --vary experiment
                query = query.where(Run.experiment == experiment)
            return [
                {
                    "run_id": r.id,
                    "job": r.job,
                    "runner": r.runner,
                    "status": r.status,
                    "started_at": _aware(r.started_at).isoformat(),  # type: ignore[union-attr]
                    "finished_at": (
                        _aware(r.finished_at).isoformat()  # type: ignore[union-attr]
                        if r.finished_at
                        else None
                    ),
                    "benchmarks": n or 0,
                    "git_commit": r.git_commit,
                    "flags": r.flags or [],
                    "experiment": r.experiment,
                    "sweep_run_id": r.sweep_run_id,
                    "matrix": r.matrix or {},
                }
                for r, n in session.execute(query).all()
            ]


def _view(run: Run) -> RunView:
    fields = {c.name: getattr(run, c.name) for c in Run.__table__.columns}
    return RunView(
        id=run.id,
        job=run.job,
        runner=run.runner,
        status=run.status,
        started_at=_aware(run.started_at) or utcnow(),
        finished_at=_aware(run.finished_at),
        fields=fields,
        environments={e.phase: e.data for e in run.environments},
        repetitions=[{k: getattr(r, k) for k in REPETITION_FIELDS} for r in run.repetitions],
        artifacts=[
            {"name": a.name, "path": a.path, "size": a.size, "sha256": a.sha256}
            for a in run.artifacts
        ],
    )
