"""Per-host progress and result tables for commands that work on many runners."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from perflab.cli.env import Env
from perflab.errors import ExitStatus
from perflab.runners.fanout import FanOutReporter, HostOutcome, fan_out

if TYPE_CHECKING:
    from rich.console import Console


class LiveReporter(FanOutReporter):
    """A progress bar with the hosts still working and the last one done."""

    def __init__(self, console: Console, total: int, what: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn(what),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task(what, total=total, last="")
        self.failed = 0

    def finished(self, outcome: HostOutcome) -> None:
        self.failed += not outcome.ok
        state = "ok" if outcome.ok else "[red]failed[/red]"
        self.progress.update(
            self.task,
            advance=1,
            last=f"{outcome.name}: {state}{f' ({self.failed} failed)' if self.failed else ''}",
        )


def run_many(
    env: Env,
    names: Sequence[str],
    work: Callable[[str], Any],
    *,
    forks: int,
    what: str,
    as_json: bool,
) -> list[HostOutcome]:
    if as_json or not env.interactive:
        return fan_out(names, work, forks=forks)
    reporter = LiveReporter(env.console(), len(names), what)
    with reporter.progress:
        return fan_out(names, work, forks=forks, reporter=reporter)


def render_outcomes(
    env: Env,
    outcomes: Sequence[HostOutcome],
    columns: Sequence[str],
    row: Callable[[Any], Sequence[str]],
    *,
    as_json: bool,
) -> None:
    """A per-host result table (or JSON); the exit status reflects the worst host."""
    if as_json:
        env.print_json({"runners": [o.to_dict() for o in outcomes]})
    else:
        from rich.table import Table

        table = Table(header_style="bold")
        for column in ("runner", "status", *columns):
            table.add_column(column)
        for outcome in outcomes:
            if outcome.ok:
                table.add_row(outcome.name, "[green]ok[/green]", *row(outcome.value))
            else:
                table.add_row(
                    outcome.name,
                    "[red]failed[/red]",
                    *([f"[red]{outcome.error}[/red]"] + [""] * (len(columns) - 1)),
                )
        env.console().print(table)
        failed = [o.name for o in outcomes if not o.ok]
        if failed:
            env.console().print(
                f"{len(failed)} of {len(outcomes)} runner(s) failed: {', '.join(failed)}"
            )
    for outcome in outcomes:
        if not outcome.ok:
            env.fail(
                ExitStatus(outcome.exit_status)
                if outcome.exit_status in (1, 2, 3)
                else ExitStatus.ERROR
            )
