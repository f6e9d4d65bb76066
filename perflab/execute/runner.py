"""One run of a job on one runner: evidence, repetitions, samples, verdict on the data.

The flow (DESIGN.md, "The way a job travels", without the queue; the functions that
drive it are in :mod:`perflab.execute.flow`)::

    environment snapshot -> placement -> run row (running) -> harness on the host
    -> step events stored as they come -> outputs fetched -> parsed -> samples stored
    -> environment after -> status

Nothing is lost: the run row exists before the first step, every step's
stdout/stderr is kept under the run folder, and a failed or interrupted run
keeps what it measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab import __version__, config, controller
from perflab.errors import ExitStatus, HostError, InputError, Location, PerflabError
from perflab.execute.collect import Collected, StepRecord, merged
from perflab.execute.counters import check_counting, counts, job_path
from perflab.execute.keep import keep_files
from perflab.execute.plan import (
    count_steps,
    measured_steps,
    setup_steps,
)
from perflab.facts.cpulist import format_cpulist, parse_cpulist
from perflab.facts.environment import throttling_delta
from perflab.facts.gather import gather_environment, gather_load
from perflab.facts.platform import runner_platform
from perflab.model import ResultSet
from perflab.pinning.cpus import Placement, housekeeping_cpus, resolve_placement
from perflab.spec.gate_names import run_gate_error
from perflab.spec.job import Job
from perflab.spec.pin import PinSpec
from perflab.stats.contamination import contamination_flag
from perflab.store import Store
from perflab.store.files import Limits
from perflab.transport.base import Process, Transport

STDERR_TAIL_LINES = 20
ARTIFACT_MAX_BYTES = 1 << 30
ARTIFACT_MAX_FILES = 10_000


class RunInterrupted(PerflabError):
    """Ctrl-C: what was measured is kept; exit status 130."""

    exit_status = ExitStatus.INTERRUPTED

    def __init__(self, message: str, outcome: RunOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass
class RunOptions:
    runner: str = "local"
    platform: str | None = None  # the runner's registered platform (facts/platform.py)
    housekeeping: str | None = None  # the runner's perflab_housekeeping_cpus
    env: dict[str, str] = field(default_factory=dict)
    experiment: str | None = None
    variant: dict[str, Any] | None = None
    fingerprint: str | None = None
    tuning: dict[str, Any] | None = None
    cgroups: list[str] = field(default_factory=list)
    shield_cpus: list[int] | None = None  # read back from the host's shield, never assumed
    baseline: str | None = None  # adaptive repetitions compare against this baseline
    pin: PinSpec | None = None  # the runner's profile's pin defaults (the job's keys win)
    run_id: str | None = None  # chosen before the run starts (the host lock names it)
    job_id: str | None = None  # the queued job this run is part of
    sweep_run_id: str | None = None  # the sweep run that queued that job
    lock_wait: float | None = None  # seconds to wait for a busy runner (None: the default)


@dataclass
class RunOutcome:
    run_id: str
    status: str  # completed | failed | interrupted
    message: str | None
    result: ResultSet
    raw_dir: Path
    flags: list[dict[str, Any]]
    input_error: InputError | None = None
    lost: str | None = None  # the runner could not be reached any more: why


class Reporter:
    """What a run tells its audience; the CLI renders a progress bar, tests stay quiet."""

    def started(self, run_id: str, total_steps: int) -> None: ...
    def step(self, record: StepRecord, label: str) -> None: ...
    def collecting(self, run_id: str) -> None: ...  # measured: outputs and samples next
    def finished(self) -> None: ...


#: a run's survey (JobRun.survey): the runner's environment, the placement, the steps
Surveyed = tuple[dict[str, Any], Placement, list[dict[str, Any]]]


def new_run_id() -> str:
    return secrets.token_hex(4)


def _check_workdir(job: Job, transport: Transport) -> None:
    result = transport.run(["test", "-d", job.workdir])
    if not result.ok:
        raise InputError(
            f'expected an existing directory on {transport.name}, got "{job.workdir}"',
            location=job.location("workdir") or _job_loc(job),
            field="workdir",
        )


def _job_loc(job: Job) -> Location | None:
    return Location(str(job.path)) if job.path else None


def _placement(job: Job, env: dict[str, Any], opts: RunOptions) -> Placement:
    cpu = env.get("cpu") or {}
    online = parse_cpulist(cpu.get("online") or "0")
    siblings = {int(k): v for k, v in (cpu.get("siblings") or {}).items()}
    keep = housekeeping_cpus(online, siblings, opts.housekeeping)
    if opts.shield_cpus:
        shield = opts.shield_cpus
        if isinstance(job.cpus, list) and not set(job.cpus) <= set(shield):
            raise InputError(
                f"expected CPUs inside the shield ({format_cpulist(shield)}), got "
                f'"{format_cpulist(job.cpus)}"',
                location=job.location("pin.cpus"),
                field="pin.cpus",
            )
        chosen = job.cpus if isinstance(job.cpus, list) else list(shield)
        return Placement(sorted(chosen), sorted(set(online) - set(shield)), list(shield))
    return resolve_placement(job.cpus, online, keep, where=job.location("pin.cpus"))


def unprepared_fingerprint(env: dict[str, Any], placement: Placement) -> str:
    """Unprepared hosts are fingerprinted by their tuning facts and the run's placement."""
    data = {"profile": None, "tuning": env.get("tuning"), "cpus": placement.cpus}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _check_allowed(placement: Placement, env: dict[str, Any], host: str) -> None:
    """The CPUs chosen must be usable by processes perflab starts on the host."""
    allowed = env.get("allowed_cpus")
    if not placement.cpus or not allowed:
        return
    missing = sorted(set(placement.cpus) - set(parse_cpulist(allowed)))
    if missing:
        raise HostError(
            host,
            f"CPU(s) {format_cpulist(missing)} are not available to processes "
            f"perflab starts there: their cpuset allows only {allowed} "
            "(another perflab shield active? look for *perflab* under "
            "/sys/fs/cgroup/cpuset)",
        )


class JobRun:
    """The state of one run while it executes."""

    def __init__(
        self, job: Job, transport: Transport, store: Store, opts: RunOptions, reporter: Reporter
    ) -> None:
        self.job, self.transport, self.store, self.opts = job, transport, store, opts
        self.reporter = reporter
        self.run_id = opts.run_id or new_run_id()
        self.raw_dir = config.runs_dir() / self.run_id
        self.records: list[StepRecord] = []
        self.missing: list[dict[str, Any]] = []
        self.done: dict[str, Any] = {}
        self.logs: dict[str, str] = {}
        self.interrupted = False
        self.lost: str | None = None  # the runner could not be reached any more
        self.platform = ""
        self.fingerprint: str | None = None
        self.fatal: str | None = None  # the harness could not even start
        self.cpus: list[int] = []  # where the harness ran the benchmark (its start event)
        self._materialized = 0  # records already split into files and stored
        self._journal: Any = None
        self.limits: Limits | None = None  # how much of the run folder the store keeps
        self.stored = False  # the run's row exists (status "running" until it ends)
        self.ended = False  # the row has its final status

    # -- setting up ----------------------------------------------------------------------

    def _write_local(self, name: str, data: Any) -> None:
        path = self.raw_dir / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")

    def prepare(
        self, flags: list[dict[str, Any]], surveyed: Surveyed | None = None
    ) -> tuple[dict[str, Any], Placement, list[dict[str, Any]]]:
        """Survey the runner (unless done already) and store the run's row."""
        env, placement, steps = surveyed or self.survey()
        return env, placement, self.record(env, placement, steps, flags)

    def survey(self) -> Surveyed:
        """Everything that can refuse the run before anything is stored or runs: the
        limits, the workdir, the runner's environment, what it can count (docs/counters.md),
        the placement; and the steps. An experiment surveys every variant first."""
        self.limits = Limits.from_env()  # a bad setting stops the run before it starts
        _check_workdir(self.job, self.transport)
        counting = counts(self.job)
        env = gather_environment(
            self.transport,
            self.job.workdir,
            counting=counting,
            path=job_path(self.job, self.opts.env),
        )
        if counting:  # a counter the runner lacks: refused before anything runs
            check_counting(self.job, env.get("counting"), self.opts.runner)
        placement = _placement(self.job, env, self.opts)
        if not self.opts.cgroups:  # entering the shield changes what is allowed
            _check_allowed(placement, env, self.transport.name)
        steps = (
            setup_steps(self.job)
            + measured_steps(self.job, seed=self.run_id)
            + count_steps(self.job)
        )
        return env, placement, steps

    def record(
        self,
        env: dict[str, Any],
        placement: Placement,
        steps: list[dict[str, Any]],
        flags: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The run folder and the run's row (status running), from its survey."""
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        if self.job.path is not None and self.job.path.is_file():
            self._write_local("job.yaml", self.job.path.read_text(encoding="utf-8"))
        self._write_local("environment.json", env)
        if placement.note:
            flags = [*flags, {"code": "placement", "message": placement.note}]
        self.platform = runner_platform(self.opts.platform, env)
        self.fingerprint = self.opts.fingerprint or unprepared_fingerprint(env, placement)
        self.store.runs.create_run(
            self.run_id,
            job=self.job.name,
            job_sha256=self.job.sha256,
            job_spec=self.job.raw,
            job_path=str(self.job.path) if self.job.path else None,
            runner=self.opts.runner,
            platform=self.platform,
            status="running",
            flags=flags,
            fingerprint=self.fingerprint,
            tuning={
                **(self.opts.tuning or {}),
                "cpus": format_cpulist(placement.cpus or []),
                "cgroups": self.opts.cgroups,
            },
            git_commit=(env.get("git") or {}).get("commit"),
            git_dirty=(env.get("git") or {}).get("dirty"),
            branch=(env.get("git") or {}).get("branch"),
            tags=self.job.tags,
            experiment=self.opts.experiment,
            variant=self.opts.variant,
            raw_dir=str(self.raw_dir),
            perflab_version=__version__,
            controller=controller.identity(),
            job_id=self.opts.job_id,
            sweep_run_id=self.opts.sweep_run_id,
            matrix=self.job.matrix or None,
        )
        self.stored = True
        self.store.runs.add_environment(self.run_id, "before", env)
        return steps

    # -- running -------------------------------------------------------------------------

    def _on_step(self, event: dict[str, Any], refs: dict[str, Any]) -> None:
        ref = refs[event["id"]]
        record = StepRecord(ref.id, ref.kind, ref.benchmark, ref.index, event)
        self.records.append(record)
        self._journal.write(json.dumps(event) + "\n")
        self._journal.flush()
        self.reporter.step(record, self._label(record))

    def _label(self, record: StepRecord) -> str:
        if record.benchmark is None:
            return f"{record.kind} {record.index}"
        return f"{self.job.benchmarks[record.benchmark].name} {record.kind} {record.index}"

    def _consume(self, process: Process, refs: dict[str, Any]) -> None:
        for line in process.lines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            kind = event.get("event")
            if kind == "step":
                self._on_step(event, refs)
            elif kind == "start":
                self.logs = event.get("logs") or {}
                self.cpus = [int(c) for c in event.get("cpus") or []]
            elif kind in ("missing", "refused"):  # refused: a runtime or policy (pinning)
                self.missing = event["items"]
            elif kind == "fatal":
                self.fatal = str(event.get("error"))
            elif kind == "done":
                self.done = event

    # -- after the last repetition: outputs into per-step files, rows into the store ------

    def _local_logs(self) -> dict[str, Path]:
        steps = self.raw_dir / "steps"
        if self.transport.shares_files:
            return {name: Path(path) for name, path in self.logs.items()}
        steps.mkdir(parents=True, exist_ok=True)
        local = {}
        for name, remote in self.logs.items():
            local[name] = steps / f"{name}.log"
            self.transport.get(remote, local[name])
        return local

    def _fetch_output(self, record: StepRecord) -> None:
        remote = record.event.get("output")
        if not remote or self.transport.shares_files:
            return
        target = self.raw_dir / "steps" / Path(remote).name
        get_tree = getattr(self.transport, "get_tree", None)
        if get_tree is not None:
            get_tree(str(Path(remote).parent), [Path(remote).name], target.parent)
        else:
            self.transport.get(remote, target)
        record.event["output"] = str(target)

    def materialize(self) -> None:
        """Split the logs into per-step files, fetch outputs, store the repetition rows
        (of the steps not done yet: adaptive runs call this after every batch)."""
        records = self.records[self._materialized :]
        self._materialized = len(self.records)
        if not records:
            return
        try:
            logs = {} if self.lost else self._local_logs()
        except HostError as exc:
            self.lost = f"outputs not fetched from {self.transport.name}: {exc}"
            logs = {}
        blobs = {name: path.read_bytes() if path.exists() else b"" for name, path in logs.items()}
        steps = self.raw_dir / "steps"
        rows = []
        for record in records:
            tail = None
            for name in ("stdout", "stderr"):
                span = record.event.get(name)
                data = blobs.get(name, b"")[span[0] : span[1]] if isinstance(span, list) else b""
                path = None
                if data:
                    path = steps / f"{record.id}.{name}"
                    path.write_bytes(data)
                record.event[name] = str(path) if path else None
                if name == "stderr" and data and not record.ok:
                    lines = data.decode("utf-8", "replace").splitlines()
                    tail = "\n".join(lines[-STDERR_TAIL_LINES:])
            if not self.lost:
                self._fetch_output(record)
            rows.append(self._row(record, tail))
        self.store.runs.add_repetitions(self.run_id, rows)

    def _row(self, record: StepRecord, tail: str | None) -> dict[str, Any]:
        event = record.event
        bench = None if record.benchmark is None else self.job.benchmarks[record.benchmark].name
        return {
            "step": record.id,
            "kind": record.kind,
            "benchmark": bench,
            "index": record.index,
            "exit_status": event.get("exit"),
            "signal": event.get("signal"),
            "timed_out": bool(event.get("timed_out")),
            "wall_ns": event.get("wall_ns", 0),
            "user_ns": event.get("user_ns", 0),
            "sys_ns": event.get("sys_ns", 0),
            "maxrss_kb": event.get("maxrss_kb", 0),
            "nvcsw": event.get("nvcsw", 0),
            "nivcsw": event.get("nivcsw", 0),
            "other_share": event.get("other"),
            "steal_share": event.get("steal"),
            "runnable": event.get("runnable"),
            "evidence_window": event.get("window"),
            "stdout_path": event.get("stdout"),
            "stderr_path": event.get("stderr"),
            "output_path": event.get("output"),
            "stderr_tail": tail,
            "error": event.get("error"),
        }

    def execute(self, request: dict[str, Any], refs: dict[str, Any]) -> str:
        from perflab.hostside import source

        self._journal = (self.raw_dir / "events.jsonl").open("a", encoding="utf-8")
        try:
            # stdin stays open while we listen: a controller that dies (SIGKILL, lost
            # link) closes it, and the harness stops the benchmark instead of running on
            process = self.transport.start(
                self.transport.helper_argv(source("harness")),
                stdin=(json.dumps(request) + "\n").encode(),
                hold_stdin=True,
            )
            self._follow(process, refs)
            result = process.wait(timeout=30)
        except HostError as exc:  # the runner went away: keep what was measured
            self.lost = f"connection to {self.transport.name} lost during the run: {exc}"
            return self.lost
        finally:
            self._journal.close()
        stderr = result.stderr.decode("utf-8", "replace")
        (self.raw_dir / "harness.log").write_text(stderr, encoding="utf-8")
        if self.fatal:
            return self.fatal
        if not self.done and not self.interrupted:
            return f"the harness stopped early (exit {result.exit_status}): {stderr[-500:]}"
        return ""

    def _follow(self, process: Process, refs: dict[str, Any]) -> None:
        """Read events to the end; Ctrl-C asks the harness to stop and reads what is left.
        Any other error here (a time limit, the store away) kills the benchmark's process
        group: nothing is left running on the runner while the error goes up."""
        try:
            self._consume(process, refs)
        except KeyboardInterrupt:
            self.interrupted = True
            process.interrupt()
            try:
                self._consume(process, refs)
            except KeyboardInterrupt:
                process.kill()
        except BaseException:
            process.kill()
            raise

    # -- finishing -----------------------------------------------------------------------

    def note_flag(self, flag: dict[str, Any]) -> None:
        flags = self.store.runs.get(self.run_id).fields.get("flags") or []
        self.store.runs.update_run(self.run_id, flags=[*flags, flag])

    def _artifacts(self) -> str | None:
        """Copy the job's artifacts (globs in the workdir) into the run folder."""
        if not self.job.artifacts:
            return None
        folder = self.raw_dir / "artifacts"
        try:
            infos = self.transport.get_tree(
                self.job.workdir,
                self.job.artifacts,
                folder,
                max_bytes=ARTIFACT_MAX_BYTES,
                max_files=ARTIFACT_MAX_FILES,
            )
        except PerflabError as exc:
            return f"artifacts not collected: {exc}"
        self.store.runs.add_artifacts(
            self.run_id,
            [
                {
                    "name": str(Path(i.path).relative_to(folder)),
                    "path": i.path,
                    "size": i.size,
                    "sha256": i.sha256,
                }
                for i in infos
            ],
        )
        return None

    def finish(
        self, collected: Collected, harness_problem: str, env_before: dict[str, Any]
    ) -> RunOutcome:
        # the samples first: what was measured is kept even if collecting artifacts is
        # stopped (a cancel, Ctrl-C) or fails
        self.store.runs.add_results(self.run_id, collected.parts)
        contaminated = contamination_flag(
            [
                {
                    "kind": r.kind,
                    "other_share": r.event.get("other"),
                    "steal_share": r.event.get("steal"),
                    "nivcsw": r.event.get("nivcsw"),
                }
                for r in self.records
            ],
            self.cpus,
        )
        if contaminated:
            self.note_flag(contaminated)
        artifact_problem = None if self.lost else self._artifacts()
        if artifact_problem:
            self.note_flag({"code": "artifacts", "message": artifact_problem})
        try:
            after = {} if self.lost else gather_load(self.transport)
            after["throttling_delta"] = throttling_delta(
                env_before.get("throttling", {}), after.get("throttling", {})
            )
        except HostError as exc:
            self.lost = self.lost or f"connection to {self.transport.name} lost: {exc}"
            after = {"error": self.lost}
        self.store.runs.add_environment(self.run_id, "after", after)
        result = merged(collected.parts)
        status, message, input_error = self._verdict(collected, harness_problem)
        if status == "completed":  # the data is good; a gate that matches nothing is not
            input_error = run_gate_error(self.job, result)
            message = None if input_error is None else str(input_error)
        keep_files(self.store, self.run_id, self.raw_dir, self.limits)
        self.store.runs.update_run(self.run_id, status=status, message=message, finished_at=_now())
        self.ended = True
        run = self.store.runs.get(self.run_id)
        self._write_local("result.json", run.to_dict())
        self.reporter.finished()
        return RunOutcome(
            self.run_id,
            status,
            message,
            result,
            self.raw_dir,
            run.fields.get("flags") or [],
            input_error,
            self.lost,
        )

    def abandon(self, exc: BaseException) -> None:
        """The run stopped on an error outside the harness (the runner went away while
        perflab set up or collected, say): its row ends failed (interrupted on Ctrl-C)
        with the reason, never left "running"; the run folder keeps what was written."""
        if not self.stored or self.ended:
            return
        interrupted = isinstance(exc, KeyboardInterrupt)
        reason = (
            "interrupted"
            if interrupted
            else f"stopped by an error on {self.transport.name}: {exc or type(exc).__name__}"
        )
        try:
            self.materialize()  # what was measured is kept
        except Exception as again:  # the original error stays the one raised
            reason += f"; the repetitions measured could not all be stored: {again}"
        with contextlib.suppress(OSError):
            self.raw_dir.mkdir(parents=True, exist_ok=True)
            self._write_local("error.txt", reason + "\n")
        try:
            keep_files(self.store, self.run_id, self.raw_dir, self.limits)
        except Exception as again:
            reason += f"; the run folder's files could not be stored: {again}"
            with contextlib.suppress(OSError):
                self._write_local("error.txt", reason + "\n")
        self.store.runs.update_run(
            self.run_id,
            message=reason,
            finished_at=_now(),
            status="interrupted" if interrupted else "failed",
        )
        self.ended = True

    def _verdict(
        self, collected: Collected, harness_problem: str
    ) -> tuple[str, str | None, InputError | None]:
        if self.missing:
            items = self.missing
            first = items[0]
            text = (
                f"{first['message']} (on {self.transport.name})"
                if first.get("message")
                else f'command not found on {self.transport.name}: "{first["program"]}"'
            )
            err = InputError(
                text,
                location=self.job.location(first["field"]) or _job_loc(self.job),
                field=first["field"],
            )
            return "failed", str(err), err
        if self.interrupted or self.done.get("interrupted"):
            return "interrupted", "interrupted; the repetitions measured so far are kept", None
        problems = []
        if self.lost and self.lost != harness_problem:
            problems.append(self.lost)
        if harness_problem:
            problems.append(harness_problem)
        if self.done.get("job_timed_out"):
            problems.append(f"the job timed out after {self.job.job_timeout:g} s")
        for record in self.records:
            if not record.ok and record.kind != "probe":  # a probe that fails: pin_unproven
                what = record.event.get("error") or f"exit status {record.event.get('exit')}"
                name = (
                    "setup"
                    if record.benchmark is None
                    else self.job.benchmarks[record.benchmark].name
                )
                problems.append(f"{name} {record.kind} {record.index}: {what}")
        input_error: InputError | None = None
        if collected.errors:
            problems.extend(str(e) for e in collected.errors[:3])
            input_error = collected.errors[0]
        if problems:
            more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
            return "failed", "; ".join(problems[:5]) + more, input_error
        return "completed", None, None


def _now() -> Any:
    from perflab.store.runs import utcnow

    return utcnow()
