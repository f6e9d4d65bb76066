"""A rich progress bar for a run's steps (only when a person watches stdout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perflab.execute.runner import Reporter

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

    from perflab.execute.collect import StepRecord


class ProgressReporter(Reporter):
    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._failed = 0

    def started(self, run_id: str, total_steps: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(f"run {run_id}", total=total_steps, last="")

    def step(self, record: StepRecord, label: str) -> None:
        if self._task is None:
            return
        wall = record.event.get("wall_ns", 0) / 1e9
        state = "" if record.ok else " [red]failed[/red]"
        self._failed += 0 if record.ok else 1
        self._progress.update(self._task, advance=1, last=f"{label}: {wall:.3f} s{state}")

    def finished(self) -> None:
        self._progress.stop()
