"""``perflab results show RUN`` for people: what ran where, on what host, what came out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from perflab.report.files import files_lines
from perflab.report.repetitions import contention_line, repetitions_table, samples_tables
from perflab.report.tables import format_value, results_table

if TYPE_CHECKING:
    from rich.console import Console

    from perflab.store.runs import RunView


def _bytes(value: int | None) -> str:
    return "-" if value is None else format_value(float(value), "B")


def environment_lines(env: dict[str, Any]) -> list[str]:
    """The evidence that matters when a number looks wrong, one line each."""
    cpu = env.get("cpu") or {}
    tuning = env.get("tuning") or {}
    os_info = env.get("os") or {}
    git = env.get("git") or {}
    lines = [
        f"host       {env.get('hostname')}  {os_info.get('name') or os_info.get('id')}  "
        f"kernel {env.get('kernel')}  {env.get('arch')}",
        f"cpu        {cpu.get('model')}  x{cpu.get('count')}  online {cpu.get('online')}  "
        f"memory {_bytes(env.get('memory_bytes'))}  cgroup {env.get('cgroup_version')}",
        f"tuning     governor {tuning.get('governor') or 'n/a'}  turbo {tuning.get('turbo')}  "
        f"smt {tuning.get('smt') or 'n/a'}  isolated {tuning.get('isolated_cpus') or 'none'}  "
        f"aslr {tuning.get('aslr')}",
        f"load       {' '.join(str(x) for x in env.get('load') or [])}",
    ]
    if git:
        lines.append(
            f"git        {git.get('commit', '')[:12]} on {git.get('branch')}"
            f"{' (dirty)' if git.get('dirty') else ''}"
        )
    busy = [p for p in env.get("top_processes") or [] if p.get("cpu_percent", 0) >= 1.0]
    for proc in busy[:5]:
        lines.append(
            f"busy       {proc['cpu_percent']:5.1f}%  pid {proc['pid']}  "
            f"{(proc.get('cmdline') or proc.get('comm') or '')[:70]}"
        )
    return lines


def cpus_line(tuning: dict[str, Any], env: dict[str, Any]) -> str:
    """Where the benchmark ran: its CPUs (or not pinned), and the shield's cgroup."""
    cpus = tuning.get("cpus")
    online = (env.get("cpu") or {}).get("online") or "?"
    if cpus:
        line = f"cpus       {cpus} (the benchmark's; online {online})"
    else:
        line = (
            f"cpus       not pinned: any of allowed {env.get('allowed_cpus') or online} "
            f"(online {online})"
        )
    groups = [
        g.rsplit("/", 1)[0] if g.endswith(("/tasks", "/cgroup.procs")) else g
        for g in tuning.get("cgroups") or []
    ]
    if groups:
        line += f"  cgroup {', '.join(groups)}"
    proof = (tuning.get("pin") or {}).get("proof")
    if proof is not None:
        line += "  pinning proven" if proof.get("ok") else "  pinning NOT as applied (see flags)"
    return line


def _repetition_summary(view: RunView) -> list[str]:
    reps = view.repetitions
    runs = [r for r in reps if r["kind"] == "run"]
    failed = [r for r in reps if r["exit_status"] != 0 or r["timed_out"] or r["error"]]
    lines = [f"steps      {len(reps)} ({len(runs)} measured), {len(failed)} failed"]
    contention = contention_line(reps)
    if contention:
        lines.append(contention)
    for rep in failed[:5]:
        what = rep["error"] or f"exit status {rep['exit_status']}"
        lines.append(
            f"  [red]{rep['benchmark'] or 'setup'} {rep['kind']} {rep['index']}: {what}[/red]"
        )
        if rep.get("stderr_tail"):
            for tail in rep["stderr_tail"].splitlines()[-3:]:
                lines.append(f"    | {tail}")
    return lines


def render_run(console: Console, view: RunView, samples: Sequence[dict[str, Any]] = ()) -> None:
    """Everything about a run: ``samples`` as ``RunStore.sample_rows`` returns them."""
    fields = view.fields
    before = view.environments.get("before") or {}
    after = view.environments.get("after") or {}
    console.print(
        f"[bold]run {view.id}[/bold]  job {view.job}  runner {view.runner}  "
        f"platform {fields.get('platform')}  status {view.status}"
    )
    console.print(
        f"started    {view.started_at:%Y-%m-%d %H:%M:%S} UTC  finished {view.finished_at:%H:%M:%S}"
        if view.finished_at
        else "finished   -"
    )
    if fields.get("message"):
        console.print(f"message    {fields['message']}")
    if fields.get("matrix"):
        cell = ",".join(f"{k}={v}" for k, v in fields["matrix"].items())
        console.print(f"matrix     {cell}", markup=False)
    if fields.get("sweep_run_id"):
        console.print(f"sweep run  {fields['sweep_run_id']}")
    for flag in fields.get("flags") or []:
        console.print(f"[yellow]flag[/yellow]       {flag.get('code')}: {flag.get('message')}")
    for line in environment_lines(before):
        console.print(line, markup=False)
    console.print(cpus_line(fields.get("tuning") or {}, before), markup=False)
    if after.get("load"):
        console.print(f"load after {' '.join(str(x) for x in after['load'])}")
    if after.get("throttling_delta"):
        console.print(f"[yellow]throttled[/yellow]  {after['throttling_delta']}")
    console.print(f"fingerprint {fields.get('fingerprint') or '-'}")
    for line in _repetition_summary(view):
        console.print(line)
    console.print(results_table(view.result))
    if view.repetitions:
        console.print()
        console.print(repetitions_table(view.repetitions))
    for table in samples_tables(samples):
        console.print()
        console.print(table)
    for art in view.artifacts:
        console.print(
            f"artifact   {art['name']}  {_bytes(art['size'])}  sha256 {art['sha256'][:16]}"
        )
    for line in files_lines(view):
        console.print(line, markup=False)
