"""Turn a job into the harness's step list (pure).

Step ids name files in the run folder: ``setup-1``, ``b0-w1`` (benchmark 0,
warmup 1), ``b0-r3`` (benchmark 0, measured repetition 3). With
``order: interleaved`` the benchmarks take turns per repetition, so slow
host drift spreads over all of them instead of hitting the last one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from perflab.facts.cpulist import format_cpulist
from perflab.spec.counters import count_request, tools_for
from perflab.spec.job import BenchmarkSpec, Job


@dataclass(frozen=True)
class StepRef:
    """What a step id means, for recording its result."""

    id: str
    kind: str  # setup | warmup | run | count
    benchmark: int | None  # index into job.benchmarks
    index: int  # 1-based repetition (or setup step) number


def _command(command: str | list[str]) -> dict[str, Any]:
    return {"argv": list(command)} if isinstance(command, list) else {"shell": command}


def _bench_step(job: Job, b: int, bench: BenchmarkSpec, kind: str, index: int) -> dict[str, Any]:
    letter = "w" if kind == "warmup" else "r"  # count steps get theirs in count_steps
    env = dict(bench.env)
    env.update(
        {"PERFLAB_BENCHMARK": bench.name, "PERFLAB_REPETITION": str(index), "PERFLAB_PHASE": kind}
    )
    if not job.repetitions.fresh_process:
        env.update(
            {
                "PERFLAB_RUNS": str(job.repetitions.runs),
                "PERFLAB_WARMUP": str(job.repetitions.warmup),
            }
        )
    return {
        "id": f"b{b}-{letter}{index}",
        "kind": kind,
        "benchmark": b,
        "index": index,
        "env": env,
        "timeout": bench.timeout or job.repetition_timeout,
        "output": bench.output,
        **_command(bench.command),
    }


def bench_steps(
    job: Job, runs: range, *, warmups: int = 0, seed: int | None = None
) -> list[dict[str, Any]]:
    """Warmups then measured runs for every benchmark, in the job's order."""
    per_process = job.repetitions.fresh_process
    if not per_process:
        runs = range(1, 2) if runs.start == 1 else range(0)
        warmups = 0
    order: list[tuple[int, BenchmarkSpec]] = list(enumerate(job.benchmarks))
    steps: list[dict[str, Any]] = []
    interleaved = job.repetitions.order == "interleaved"
    if interleaved:
        for w in range(1, warmups + 1):
            steps += [_bench_step(job, b, bench, "warmup", w) for b, bench in order]
        rng = random.Random(seed)
        for r in runs:
            turn = order[:]
            if seed is not None:
                rng.shuffle(turn)
            steps += [_bench_step(job, b, bench, "run", r) for b, bench in turn]
        return steps
    for b, bench in order:
        steps += [_bench_step(job, b, bench, "warmup", w) for w in range(1, warmups + 1)]
        steps += [_bench_step(job, b, bench, "run", r) for r in runs]
    return steps


ENV_PAD_MAX = 4096  # bytes: the environment's size moves the stack (Mytkowicz et al. 2009)


def measured_steps(job: Job, *, seed: str) -> list[dict[str, Any]]:
    """The job's warmups and measured repetitions: with ``runs: N``, N runs one after
    another, each with its own warmups and processes (repetitions ``(k-1)*P+1 .. k*P`` are
    run k's), the benchmark order and the size of the environment drawn anew for each
    (``PERFLAB_RUN_PART``, ``PERFLAB_ENV_PAD``), so one run's layout luck is not the next's.
    ``seed`` (the run id) makes the draw repeatable."""
    reps = job.repetitions
    if job.runs <= 1:
        return bench_steps(job, range(1, reps.runs + 1), warmups=reps.warmup)
    per_run = reps.runs if reps.fresh_process else 1
    warmups = reps.warmup if reps.fresh_process else 0
    rng = random.Random(f"{seed}-runs")
    steps: list[dict[str, Any]] = []
    for part in range(1, job.runs + 1):
        order: list[tuple[int, BenchmarkSpec]] = list(enumerate(job.benchmarks))
        rng.shuffle(order)
        env = {"PERFLAB_RUN_PART": str(part), "PERFLAB_ENV_PAD": "x" * rng.randrange(ENV_PAD_MAX)}
        first_w, first_r = (part - 1) * warmups, (part - 1) * per_run
        found: list[dict[str, Any]] = []
        if reps.order == "interleaved":
            for w in range(first_w + 1, first_w + warmups + 1):
                found += [_bench_step(job, b, bench, "warmup", w) for b, bench in order]
            for r in range(first_r + 1, first_r + per_run + 1):
                turn = order[:]
                rng.shuffle(turn)
                found += [_bench_step(job, b, bench, "run", r) for b, bench in turn]
        else:
            for b, bench in order:
                found += [
                    _bench_step(job, b, bench, "warmup", w)
                    for w in range(first_w + 1, first_w + warmups + 1)
                ]
                found += [
                    _bench_step(job, b, bench, "run", r)
                    for r in range(first_r + 1, first_r + per_run + 1)
                ]
        for step in found:
            step["env"].update(env)
        steps += found
    return steps


def count_steps(job: Job) -> list[dict[str, Any]]:
    """Counted repetitions (docs/counters.md), after the timed ones: ``b0-c1`` under
    callgrind, ``b0-h1`` under perf stat; their own count and timeout, the same command,
    environment and output as the benchmark's timed repetitions (under callgrind, Go's
    asynchronous preemption is turned off: its signals crash callgrind 3.19)."""
    steps: list[dict[str, Any]] = []
    for b, bench in enumerate(job.benchmarks):
        for tool in tools_for(bench.counters):
            letter = "c" if tool == "valgrind" else "h"
            for index in range(1, job.counting.runs + 1):
                step = _bench_step(job, b, bench, "count", index)
                step["env"]["PERFLAB_PHASE"] = "count"
                if tool == "valgrind":  # Go's signal preemption crashes callgrind 3.19
                    godebug = step["env"].get("GODEBUG") or job.env.get("GODEBUG")
                    step["env"]["GODEBUG"] = ",".join(filter(None, (godebug, "asyncpreemptoff=1")))
                step.update(
                    id=f"b{b}-{letter}{index}",
                    timeout=job.counting.timeout,
                    count=count_request(tool, bench.counters),
                )
                steps.append(step)
    return steps


def setup_steps(job: Job) -> list[dict[str, Any]]:
    return [
        {
            "id": f"setup-{i}",
            "kind": "setup",
            "benchmark": None,
            "index": i,
            "env": dict(step.env),
            "timeout": step.timeout or job.repetition_timeout,
            "output": None,
            **_command(step.command),
        }
        for i, step in enumerate(job.setup, start=1)
    ]


def harness_request(
    job: Job,
    steps: list[dict[str, Any]],
    *,
    workdir: str,
    rundir: str,
    cpus: list[int] | None,
    env: dict[str, str],
    cgroups: list[str] | None = None,
) -> dict[str, Any]:
    base_env = dict(job.env)
    base_env.update(env)
    if cpus:
        base_env["PERFLAB_CPUS"] = format_cpulist(cpus)
    return {
        "workdir": workdir,
        "rundir": rundir,
        "env": base_env,
        "cpus": cpus,
        "cgroups": cgroups or [],
        "job_timeout": job.job_timeout,
        "steps": [{k: v for k, v in s.items() if k not in ("benchmark", "index")} for s in steps],
    }


def step_refs(steps: list[dict[str, Any]]) -> dict[str, StepRef]:
    return {s["id"]: StepRef(s["id"], s["kind"], s["benchmark"], s["index"]) for s in steps}
