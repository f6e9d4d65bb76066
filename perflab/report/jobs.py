"""Jobs for people: a table, one job's story, and a log that follows a job."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from perflab.store import Store

COLORS = {"done": "green", "failed": "red", "cancelled": "yellow", "queued": "cyan"}


def _when(iso: str | None) -> str:
    return (iso or "")[11:19] or "-"


def _state(job: dict[str, Any]) -> str:
    color = COLORS.get(job["state"], "blue")
    text = f"[{color}]{job['state']}[/{color}]"
    return f"{text} ({job['reason']})" if job.get("reason") else text


def cell(job: dict[str, Any]) -> str:
    """A job's combination of its job's matrix, ``compiler=gcc,opt=-O2`` (empty: none)."""
    from perflab.spec.matrix import label

    return label(job.get("matrix") or {})


def _name(job: dict[str, Any]) -> str:
    from rich.markup import escape

    values = cell(job)
    return escape(f"{job['name']} [{values}]" if values else job["name"])


def jobs_table(rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("job", "name", "state", "target", "runner", "attempt", "submitted", "runs"):
        table.add_column(column)
    for job in rows:
        target = job["target"]
        table.add_row(
            job["job_id"],
            _name(job),
            _state(job),
            f"{target['kind']} {target['name']}",
            job["runner"] or "-",
            str(job["attempt"]),
            (job["submitted_at"] or "")[:19].replace("T", " "),
            ", ".join(job["run_ids"]) or "-",
        )
    return table


def render_job(console: Console, job: dict[str, Any]) -> None:
    from rich.markup import escape

    target = job["target"]
    console.print(
        f"job {job['job_id']}  {job['name']}  {_state(job)}  "
        f"{target['kind']} {target['name']}  runner {job['runner'] or '-'}  "
        f"attempt {job['attempt']} of {job['retries'] + 1}"
    )
    if cell(job):
        console.print(f"matrix {escape(cell(job))}")
    if job["message"]:
        console.print(escape(job["message"]))
    if job["run_ids"]:
        console.print(f"runs: {', '.join(job['run_ids'])}")
    for event in job["events"]:
        console.print(_event_line(event))


def _event_line(event: dict[str, Any]) -> str:
    from rich.markup import escape

    extra = " ".join(
        x for x in (event.get("reason") and f"({event['reason']})", event.get("message")) if x
    )
    who = f" [{event['worker']}]" if event.get("worker") else ""
    return f"{_when(event['at'])} {event['state']:<11}{escape(extra)}{escape(who)}"


class JobLog:
    """What ``jobs logs --follow`` prints: each new event, each new repetition."""

    def __init__(self, out: IO[str] | None) -> None:
        self.out = out
        self.events = 0
        self.repetitions: dict[str, int] = {}

    def _line(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    def update(self, job: dict[str, Any], store: Store) -> None:
        for event in job["events"][self.events :]:
            extra = " ".join(
                x
                for x in (event.get("reason") and f"({event['reason']})", event.get("message"))
                if x
            )
            self._line(f"{_when(event['at'])} {event['state']:<11}{extra}".rstrip())
        self.events = len(job["events"])
        for run_id in job["run_ids"]:
            self._repetitions(run_id, store)

    def _repetitions(self, run_id: str, store: Store) -> None:
        try:
            reps = store.runs.get(run_id).repetitions
        except Exception:  # the run's row is not written yet
            return
        for rep in reps[self.repetitions.get(run_id, 0) :]:
            name = rep.get("benchmark") or "setup"
            status = (
                "ok"
                if rep.get("exit_status") == 0 and not rep.get("timed_out")
                else (rep.get("error") or f"exit {rep.get('exit_status')}")
            )
            self._line(
                f"  run {run_id}: {name} {rep.get('kind')} {rep.get('index')}: "
                f"{(rep.get('wall_ns') or 0) / 1e6:.3f} ms {status}"
            )
            if rep.get("stderr_tail") and status != "ok":
                for tail in str(rep["stderr_tail"]).splitlines():
                    self._line(f"    {tail}")
        self.repetitions[run_id] = len(reps)


def render_status(console: Console, doc: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="runners", title_justify="left", header_style="bold")
    for column in ("runner", "state", "job", "holder", "platform", "groups"):
        table.add_column(column)
    for row in doc["runners"]:
        lease = row["lease"] or {}
        table.add_row(
            row["name"],
            row["state"] + (f" ({row['reason']})" if row["reason"] else ""),
            lease.get("job_id") or "-",
            lease.get("holder") or "-",
            row["platform"] or "-",
            ", ".join(row["groups"]) or "-",
        )
    console.print(table)
    if doc["queued"]:
        console.print(
            "queued: "
            + ", ".join(f"{q['kind']} {q['target']}: {q['queued']}" for q in doc["queued"])
        )
    else:
        console.print("queued: none")
    workers = doc["workers"]
    if workers["error"]:
        console.print(f"[red]workers: unknown ({workers['error']})[/red]")
    else:
        console.print(f"workers alive: {', '.join(workers['alive']) or 'none'}")
