"""Rendering preparation, restore and verify reports (knobs never print: this does, once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from perflab.prepare.engine import PrepareReport, RestoreReport
    from perflab.prepare.noise import NoiseVerdict
    from perflab.prepare.verify import VerifyResult

_STATUS = {
    "ok": "[green]ok[/green]",
    "change": "[yellow]changed[/yellow]",
    "skipped": "[dim]skipped[/dim]",
    "error": "[red]error[/red]",
    "action": "[cyan]action[/cyan]",
}


def render_prepare(console: Console, report: PrepareReport, *, diff: bool) -> None:
    from rich.table import Table

    check = report.mode == "check"
    ctx = report.context
    console.print(
        f"[bold]{report.host}[/bold]: profile {report.profile}"
        f"{' (check mode: nothing changed)' if check else ''}; CPUs {ctx['online']}, "
        f"housekeeping {ctx['housekeeping']}, reserved {ctx['reserved']}, "
        f"cgroup {ctx['cgroup']}"
    )
    table = Table(header_style="bold")
    for column in ("task", "knob", "status", "detail"):
        table.add_column(column)
    for plan in report.plans:
        status = _STATUS.get(plan.status, plan.status)
        if plan.status in ("change", "action") and check:
            status = (
                "[yellow]would change[/yellow]"
                if plan.status == "change"
                else "[cyan]would run[/cyan]"
            )
        detail = plan.reason or (f"{len(plan.changes)} change(s)" if plan.changes else "")
        table.add_row(plan.task, plan.knob, status, detail)
        for note in plan.notes:
            table.add_row("", "", "", f"[dim]{note}[/dim]")
    console.print(table)
    if diff:
        _diff(console, report)
    if report.unmovable:
        names = sorted({u["comm"].split("/")[0] for u in report.unmovable})
        console.print(
            f"{len(report.unmovable)} tasks could not be moved (per-CPU kernel "
            f"threads): {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}"
        )
    for failure in report.failed:
        console.print(
            f"[red]failed[/red] {failure['knob']}: {failure['target']}: {failure['error']}"
        )
    for problem in report.problems:
        console.print(f"[red]not verified[/red] {problem}")
    if check:
        console.print(
            f"{report.changed} change(s) would be made"
            if report.changed
            else "no changes: the host is prepared"
        )
    else:
        console.print(f"{report.changed} change(s) made" if report.changed else "no changes")
        if report.fingerprint:
            console.print(f"tuning fingerprint {report.fingerprint[:16]}")


def _diff(console: Console, report: PrepareReport) -> None:
    """Every value that changes, old and new, one line each (like `diff -u`)."""
    from rich.markup import escape

    for plan in report.plans:
        if not plan.changes:
            continue
        console.print(f"[bold]@@ {escape(plan.task)} ({plan.knob})[/bold]")
        for change in plan.changes:
            old = "(absent)" if change.old is None else str(change.old)
            console.print(f"[red]- {escape(change.target)}: {escape(old)}[/red]")
            console.print(f"[green]+ {escape(change.target)}: {escape(str(change.new))}[/green]")


def render_restore(console: Console, report: RestoreReport) -> None:
    if report.nothing:
        console.print(f"{report.host}: nothing to restore")
        return
    console.print(f"{report.host}: restored {len(report.restored)} value(s)")
    for failure in report.failed:
        console.print(f"[red]failed[/red] {failure['knob']}: {failure['key']}: {failure['error']}")
    for entry in report.gone:
        console.print(f"[dim]gone[/dim] {entry.get('knob')}: {entry.get('key')} (no longer exists)")
    if report.affinity_restored:
        console.print(
            f"affinity set back for {len(report.affinity_restored)} task(s) "
            "(the kernel had changed it)"
        )
    for task in report.affinity_changed:
        console.print(
            f"[yellow]affinity not restored[/yellow] task {task['tid']}: "
            f"{task['before']} -> {task['now']} ({task.get('error', '?')})"
        )


def _verdict_table(console: Console, title: str, verdict: NoiseVerdict) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in (
        "cpu",
        "others",
        "steal",
        "median",
        "cv (limit)",
        "median/best",
        "p95/best",
        "invol. cs/s",
        "irq/s",
        "verdict",
    ):
        table.add_column(column, justify="right" if column != "verdict" else "left")
    for cpu in verdict.cpus:
        irq = "-" if cpu.interrupts_per_s is None else f"{cpu.interrupts_per_s:.0f}"
        limit = "calibrating" if cpu.cv_limit is None else f"{cpu.cv_limit:.1%}"
        table.add_row(
            str(cpu.cpu),
            _share(cpu.other_share),
            _share(cpu.steal_share),
            f"{cpu.median_ns / 1e6:.3f} ms",
            f"{cpu.cv:.1%} ({limit})",
            f"{cpu.slowdown:.3f}",
            f"{cpu.tail:.3f}",
            f"{cpu.involuntary_per_s:.1f}",
            irq,
            "[green]quiet[/green]" if cpu.ok else "[red]" + "; ".join(cpu.failures) + "[/red]",
        )
    console.print(table)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def record_line(verdict: NoiseVerdict) -> str:
    """The probe's record on this host, from the judged probes it keeps: how often it
    failed a quiet CPU (a false alarm) and caught a contaminated one."""
    rec = verdict.record
    quiet = f"{rec.quiet_failed}/{rec.quiet}" if rec.quiet else "none yet"
    caught = f"{rec.contaminated_failed}/{rec.contaminated}" if rec.contaminated else "none yet"
    return (
        f"this host's probe record (earlier probes, per CPU): failed on quiet CPUs "
        f"{quiet}; failed with others using the CPU {caught}"
    )


def render_verify(console: Console, result: VerifyResult) -> None:
    if result.before is not None:
        _verdict_table(console, f"{result.host}: before preparation", result.before)
    title = f"{result.host}: " + (
        f"prepared by {result.prepared_by}" if result.prepared_by else "as it is (not prepared)"
    )
    _verdict_table(console, title, result.after)
    console.print(record_line(result.after))
    console.print(
        "[green]quiet enough to measure on[/green]"
        if result.ok
        else "[red]too noisy to measure on[/red]: results would be marked "
        "infra_contention_suspected"
    )
