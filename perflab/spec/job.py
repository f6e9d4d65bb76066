"""Job files: load, validate against ``schemas/job.schema.json``, and type them.

``load_job`` raises :class:`SpecErrors` listing every problem with
``file:line:col: field: expected X, got Y``; a returned :class:`Job` is known
to be well formed. Whether its workdir and commands exist is checked where
the job runs (the runner may be another host).
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from perflab.errors import InputError, Location, SpecErrors
from perflab.facts.cpulist import parse_cpulist
from perflab.limits import MAX_REPETITIONS
from perflab.spec.counters import (
    COUNTABLE_FORMATS,
    DEFAULT_COUNT_RUNS,
    DEFAULT_COUNT_TIMEOUT,
    Counting,
    uncountable,
)
from perflab.spec.gate_names import gate_name_errors
from perflab.spec.pin import PinSpec, parse_pin
from perflab.spec.units import fraction, seconds
from perflab.spec.yamlpos import Positions, parse_yaml, read_text

Command = str | list[str]
CpuChoice = Literal["reserved", "all"] | list[int]

DEFAULT_WARMUP = 1
DEFAULT_RUNS = 10
DEFAULT_REPETITION_TIMEOUT = 600.0
DEFAULT_JOB_TIMEOUT = 6 * 3600.0

# Words that start a shell command but are not programs we could look up.
_SHELL_WORDS = {
    "cd",
    "exec",
    "env",
    "time",
    "for",
    "if",
    "while",
    "until",
    "case",
    "(",
    "{",
    "!",
    "export",
    "set",
    ".",
    "source",
    "eval",
    "nice",
    "taskset",
    "chrt",
    "sudo",
}


@dataclass(frozen=True)
class Step:
    name: str
    command: Command
    timeout: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    where: str = ""  # the field path, for messages (e.g. "setup[0].run")


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    command: Command
    format: str
    output: str | None = None  # None: stdout
    env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    where: str = ""
    counters: tuple[str, ...] = ()  # docs/counters.md: the benchmark's own, else the job's

    def program(self) -> str | None:
        """The program the command starts, if it can be known without running a shell."""
        if isinstance(self.command, list):
            return self.command[0]
        try:
            words = shlex.split(self.command)
        except ValueError:
            return None
        if not words or "=" in words[0] or words[0] in _SHELL_WORDS:
            return None
        if any(ch in words[0] for ch in "$`*?;&|<>"):
            return None
        return words[0]


@dataclass(frozen=True)
class Repetitions:
    warmup: int = DEFAULT_WARMUP
    runs: int = DEFAULT_RUNS
    fresh_process: bool = True
    order: str = "sequential"
    max_runs: int | None = None
    max_time: float | None = None


@dataclass(frozen=True)
class Job:
    name: str
    path: Path | None
    sha256: str
    workdir: str
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)
    setup: list[Step] = field(default_factory=list)
    benchmarks: list[BenchmarkSpec] = field(default_factory=list)
    repetitions: Repetitions = field(default_factory=Repetitions)
    #: ``runs: N``: separate runs of ``repetitions.runs`` processes each (docs/statistics.md)
    runs: int = 1
    repetition_timeout: float = DEFAULT_REPETITION_TIMEOUT
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    cpus: CpuChoice = "reserved"
    pin: PinSpec = field(default_factory=PinSpec)  # runtime, policy, nice (docs/pinning.md)
    artifacts: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    runs_on: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None
    compare: dict[str, Any] = field(default_factory=dict)
    gates: list[dict[str, Any]] = field(default_factory=list)
    #: the values of one combination of the job's matrix (empty: not expanded, or no matrix)
    matrix: dict[str, str] = field(default_factory=dict)
    counting: Counting = field(default_factory=Counting)
    raw: dict[str, Any] = field(default_factory=dict)
    positions: Positions | None = field(default=None, compare=False, repr=False)

    def location(self, where: str) -> Location | None:
        """Where a field (``benchmarks[0].command``) stands in the job file."""
        if self.positions is None:
            return None
        path: list[str | int] = []
        for part in where.replace("]", "").replace("[", ".").split("."):
            if part:
                path.append(int(part) if part.isdigit() else part)
        return self.positions.value(tuple(path))

    @property
    def noise_band(self) -> float:
        value = fraction(self.compare.get("noise_band"))
        return 0.01 if value is None else value


def _env(raw: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (raw or {}).items():
        if isinstance(value, bool):
            value = "1" if value else "0"
        out[str(key)] = str(value)
    return out


def _cpus(raw: Any, pos: Positions) -> CpuChoice:
    if raw is None or raw == "reserved":
        return "reserved"
    if raw == "all":
        return "all"
    try:
        cpus = parse_cpulist(raw)
    except ValueError as exc:
        raise InputError(str(exc), location=pos.value(("pin", "cpus")), field="pin.cpus") from None
    if not cpus:
        raise InputError(
            'expected at least one CPU, got ""',
            location=pos.value(("pin", "cpus")),
            field="pin.cpus",
        )
    return cpus


def _at(pos: Positions, where: str) -> Location | None:
    return pos.value(tuple(where.split(".")))


def build_job(data: dict[str, Any], pos: Positions, path: Path | None, sha: str) -> Job:
    base = path.parent if path is not None else Path.cwd()
    workdir = Path(data.get("workdir", "."))
    if not workdir.is_absolute():
        workdir = (base / workdir).resolve()
    default_format = data.get("format", "auto")
    reps = data.get("repetitions", {})
    run_count, per_run = run_parts(data)
    timeouts = data.get("timeout", {})
    setup = [
        Step(
            name=s.get("name") or f"setup {i + 1}",
            command=s["run"],
            timeout=seconds(s.get("timeout")),
            env=_env(s.get("env")),
            where=f"setup[{i}].run",
        )
        for i, s in enumerate(data.get("setup", []))
    ]
    benchmarks = [
        BenchmarkSpec(
            name=b["name"],
            command=b["command"],
            format=b.get("format", default_format),
            output=None if b.get("output") in (None, "stdout") else b["output"],
            env=_env(b.get("env")),
            timeout=seconds(b.get("timeout")),
            where=f"benchmarks[{i}].command",
            counters=tuple(b.get("counters", data.get("counters", []))),
        )
        for i, b in enumerate(data["benchmarks"])
    ]
    counting = data.get("counting", {})
    _check_countable(data, benchmarks, pos)
    names = [b.name for b in benchmarks]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InputError(
                f'duplicate benchmark name "{name}"',
                location=pos.value(("benchmarks", i, "name")),
                field=f"benchmarks[{i}].name",
            )
    return Job(
        name=data["name"],
        path=path,
        sha256=sha,
        workdir=str(workdir),
        description=data.get("description", ""),
        env=_env(data.get("env")),
        setup=setup,
        benchmarks=benchmarks,
        repetitions=Repetitions(
            warmup=reps.get("warmup", DEFAULT_WARMUP),
            runs=per_run,
            fresh_process=reps.get("fresh_process", True),
            order=reps.get("order", "sequential"),
            max_runs=reps.get("max_runs"),
            max_time=seconds(reps.get("max_time")),
        ),
        runs=run_count,
        repetition_timeout=seconds(timeouts.get("repetition")) or DEFAULT_REPETITION_TIMEOUT,
        job_timeout=seconds(timeouts.get("job")) or DEFAULT_JOB_TIMEOUT,
        cpus=_cpus((data.get("pin") or {}).get("cpus"), pos),
        pin=parse_pin(data.get("pin") or {}, "job", lambda where: _at(pos, where)),
        artifacts=list(data.get("artifacts", [])),
        tags=list(data.get("tags", [])),
        runs_on=dict(data.get("runs_on", {})),
        profile=data.get("profile"),
        compare=dict(data.get("compare", {})),
        gates=list(data.get("gates", [])),
        counting=Counting(
            runs=counting.get("runs", DEFAULT_COUNT_RUNS),
            timeout=seconds(counting.get("timeout")) or DEFAULT_COUNT_TIMEOUT,
        ),
        raw=data,
        positions=pos,
    )


def _check_countable(data: dict[str, Any], benchmarks: list[BenchmarkSpec], pos: Positions) -> None:
    """A benchmark that counts has a format whose iterations are known (docs/counters.md)."""
    for i, bench in enumerate(benchmarks):
        why = uncountable(bench.format) if bench.counters else None
        if why is None:
            continue
        own = "counters" in data["benchmarks"][i]
        where = f"benchmarks[{i}].counters" if own else "counters"
        location = pos.value(("benchmarks", i, "counters") if own else ("counters",))
        raise InputError(
            f"expected a benchmark of format {', '.join(COUNTABLE_FORMATS)} to "
            f'count, got format "{bench.format}" ({bench.name}): {why}',
            location=location,
            field=where,
        )


def parse_job(text: str, file: str, path: Path | None = None) -> Job:
    data, pos = parse_yaml(text, file)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise InputError(f"expected a mapping (a job), got {kind}", location=Location(file, 1, 1))
    from perflab.spec.schema import schema_errors  # jsonschema: only when validating

    errors = schema_errors(data, "job", pos)
    if errors:
        raise SpecErrors(errors)
    _check_repetitions(data, pos)
    _check_matrix(data, pos)
    job = build_job(data, pos, path, hashlib.sha256(text.encode()).hexdigest())
    errors = gate_name_errors(job)
    if errors:
        raise SpecErrors(errors)
    return job


def _check_matrix(data: dict[str, Any], pos: Positions) -> None:
    """At most ``matrix_max`` jobs in the expansion; every ``${{ matrix.X }}`` names an axis."""
    from perflab import config
    from perflab.spec import matrix

    if data.get("matrix"):
        matrix.check_limit(data, pos, int(config.settings().matrix_max.value))
    matrix.check_references(data, pos)


def run_parts(spec: dict[str, Any]) -> tuple[int, int]:
    """(runs, processes per run) of a job's ``runs`` and ``repetitions.runs`` keys (a
    stored run's ``job_spec`` too: a sample's run is its repetition's part). ``runs:
    N`` keeps ``repetitions.runs``; ``runs: "N x P"`` sets it."""
    raw = spec.get("runs", 1)
    per_run = (spec.get("repetitions") or {}).get("runs", DEFAULT_RUNS)
    if isinstance(raw, str):
        count, _, processes = raw.lower().partition("x")
        return int(count), int(processes)
    return int(raw), int(per_run)


def processes_per_run(spec: dict[str, Any]) -> int | None:
    """Processes per run of a stored run's job spec with ``runs: N`` (N > 1), else None
    (one process per run without ``fresh_process``)."""
    try:
        count, processes = run_parts(spec)
    except (TypeError, ValueError):
        return None
    if count <= 1:
        return None
    fresh = (spec.get("repetitions") or {}).get("fresh_process", True)
    return processes if fresh else 1


def _check_runs(data: dict[str, Any], pos: Positions) -> None:
    """``runs: "N x P"`` and ``repetitions.runs`` agree; several runs are not adaptive and
    are not an A/B job (each of those chooses its own repetitions)."""
    raw = data.get("runs", 1)
    reps = data.get("repetitions", {})
    if isinstance(raw, str) and "runs" in reps and run_parts(data)[1] != reps["runs"]:
        raise InputError(
            f'expected "{raw}" to agree with repetitions.runs ({reps["runs"]}), got '
            f"{run_parts(data)[1]} processes per run",
            location=pos.value(("runs",)),
            field="runs",
        )
    if run_parts(data)[0] <= 1:
        return
    for key in ("max_runs", "max_time"):
        what = f"adaptive repetitions (repetitions.{key})"
        if key in reps:
            raise InputError(
                f"expected either runs: N or {what}, got both",
                location=pos.value(("repetitions", key)),
                field=f"repetitions.{key}",
            )
    if data.get("ab") is not None:
        raise InputError(
            "expected either runs: N or an A/B job (ab:), got both: A/B rounds are "
            "interleaved pairs already",
            location=pos.value(("runs",)),
            field="runs",
        )


def _check_repetitions(data: dict[str, Any], pos: Positions) -> None:
    """max_runs >= runs, and at most MAX_REPETITIONS steps in all (each one is planned)."""
    _check_runs(data, pos)
    reps = data.get("repetitions", {})
    parts, runs = run_parts(data)
    warmup = reps.get("warmup", DEFAULT_WARMUP)
    if "max_runs" in reps and reps["max_runs"] < runs:
        raise InputError(
            f"expected max_runs >= runs ({runs}), got {reps['max_runs']}",
            location=pos.value(("repetitions", "max_runs")),
            field="repetitions.max_runs",
        )
    most = max(runs, reps.get("max_runs", runs))
    count = len(data["benchmarks"])
    total = count * parts * (warmup + most)
    if total > MAX_REPETITIONS:
        times = f"{parts} runs x " if parts > 1 else ""
        raise InputError(
            f"expected at most {MAX_REPETITIONS} repetitions in all (warmups included), got "
            f"{total} ({count} benchmark{'s' * (count != 1)} x {times}({warmup} warmup"
            f"{'s' * (warmup != 1)} + {most} runs))",
            location=pos.value(("repetitions",)),
            field="repetitions",
        )


def load_job(path: str | Path) -> Job:
    text = read_text(path)
    return parse_job(text, str(path), Path(path).resolve())
