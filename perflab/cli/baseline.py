"""``perflab baseline set|unset|show|list|history|waive|waivers|revoke``."""

from __future__ import annotations

from typing import Any

import click

from perflab.cli import complete
from perflab.cli.env import Env
from perflab.cli.helptext import json_option
from perflab.store import open_store


def _rows_table(env: Env, rows: list[dict[str, Any]], columns: list[str]) -> None:
    from rich.table import Table

    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(row.get(c) if row.get(c) is not None else "-")[:60] for c in columns])
    env.console().print(table)


@click.group()
def baseline() -> None:
    """Baselines per job, platform class and branch; waivers for accepted changes."""


@baseline.command("set")
@click.argument("name", shell_complete=complete.baselines)
@click.argument("run_ref", metavar="RUN", shell_complete=complete.runs)
@click.option("--reason", help="Why (required when the run regressed, failed or was noisy).")
@click.option("--branch", help="Branch the baseline is for (default: the run's git branch).")
@click.option("--benchmark", default="*", show_default=True, help="Benchmarks it covers (glob).")
@click.option("--by", help="Who sets it (default: user@host).")
@json_option("the baseline set")
@click.pass_obj
def set_(
    env: Env,
    name: str,
    run_ref: str,
    reason: str | None,
    branch: str | None,
    benchmark: str,
    by: str | None,
    as_json: bool,
) -> None:
    """Make RUN the baseline NAME for its job, platform and branch."""
    from perflab.compare.baselines import set_baseline

    with open_store() as store:
        record = set_baseline(
            store, name, run_ref, reason=reason, branch=branch, benchmark=benchmark, by=by
        )
    if as_json:
        env.print_json(record)
        return
    env.stdout.write(
        f"baseline {name} = run {record['run_id']} (job {record['job']}, "
        f"platform {record['platform']}, branch {record['branch']})\n"
    )
    for objection in record["objections"]:
        env.stdout.write(f"  accepted with reason despite: {objection}\n")


@baseline.command()
@click.argument("name", shell_complete=complete.baselines)
@click.option("--job", required=True, help="The job the baseline is for.")
@click.option("--platform", required=True, help="The platform class it is for.")
@click.option("--branch", default="-", show_default=True, help="The branch it is for.")
@click.option("--reason", required=True, help="Why it is retired (kept in its history).")
@click.option("--by", help="Who retires it (default: user@host).")
@click.pass_obj
def unset(
    env: Env, name: str, job: str, platform: str, branch: str, reason: str, by: str | None
) -> None:
    """Retire a baseline (kept in its history)."""
    from perflab.compare.baselines import unset_baseline

    with open_store() as store:
        unset_baseline(store, name, job=job, platform=platform, branch=branch, reason=reason, by=by)
    env.stdout.write(f"baseline {name} unset for {job} on {platform} ({branch})\n")


@baseline.command("list")
@click.option("--job", help="Only baselines of this job.")
@click.option("--platform", help="Only baselines of this platform class.")
@json_option("the baselines")
@click.pass_obj
def list_(env: Env, job: str | None, platform: str | None, as_json: bool) -> None:
    """Baselines in force."""
    with open_store() as store:
        rows = store.baselines.current(job=job, platform=platform)
    if as_json:
        env.print_json({"baselines": rows})
        return
    if not rows:
        only = " ".join(f"for {k} {v}" for k, v in (("job", job), ("platform", platform)) if v)
        env.stdout.write(
            f"no baselines set{' ' + only if only else ''}: "
            "`perflab baseline set NAME RUN` sets one\n"
        )
        return
    _rows_table(
        env,
        rows,
        ["name", "job", "platform", "branch", "benchmark", "run_id", "set_by", "set_at", "reason"],
    )


@baseline.command()
@click.argument("name", shell_complete=complete.baselines)
@json_option("the baselines")
@click.pass_obj
def show(env: Env, name: str, as_json: bool) -> None:
    """The baseline NAME for each job and platform it is set for."""
    from perflab.errors import InputError

    with open_store() as store:
        rows = store.baselines.current(name)
    if not rows:
        raise InputError(f'no baseline "{name}"', hint="see `perflab baseline list`")
    if as_json:
        env.print_json({"baselines": rows})
        return
    _rows_table(
        env,
        rows,
        ["job", "platform", "branch", "benchmark", "run_id", "set_by", "set_at", "reason"],
    )


@baseline.command()
@click.argument("name", shell_complete=complete.baselines)
@click.option("--job", help="Only changes for this job.")
@json_option("the changes")
@click.pass_obj
def history(env: Env, name: str, job: str | None, as_json: bool) -> None:
    """Every change of baseline NAME: who, when, why."""
    with open_store() as store:
        rows = store.baselines.history(name, job=job)
    if as_json:
        env.print_json({"history": rows})
        return
    if not rows:
        env.stdout.write(f'no baseline "{name}" was ever set{f" for job {job}" if job else ""}\n')
        return
    _rows_table(
        env, rows, ["set_at", "action", "job", "platform", "branch", "run_id", "set_by", "reason"]
    )


@baseline.command()
@click.option("--benchmark", required=True, help="Benchmarks it covers (glob).")
@click.option("--metric", required=True, help="Metrics it covers (glob).")
@click.option("--magnitude", required=True, help='The expected change, e.g. "5%".')
@click.option("--reason", required=True, help="Why the change is expected (shown with it).")
@click.option("--expires", required=True, help='A date (2026-12-31) or a duration ("30d").')
@click.option("--job", help="Only this job (default: any).")
@click.option("--platform", help="Only this platform class (default: any).")
@click.option("--by", help="Who waives it (default: user@host).")
@click.pass_obj
def waive(
    env: Env,
    benchmark: str,
    metric: str,
    magnitude: str,
    reason: str,
    expires: str,
    job: str | None,
    platform: str | None,
    by: str | None,
) -> None:
    """Accept an expected change: reported as waived until it expires, unless much larger."""
    from perflab.compare.baselines import add_waiver

    with open_store() as store:
        waiver_id = add_waiver(
            store,
            benchmark=benchmark,
            metric=metric,
            magnitude=magnitude,
            reason=reason,
            expires=expires,
            job=job,
            platform=platform,
            by=by,
        )
    env.stdout.write(f"waiver {waiver_id}: {benchmark} {metric} up to {magnitude}\n")


@baseline.command()
@click.option("--all", "every", is_flag=True, help="Include expired and revoked ones.")
@json_option("the waivers")
@click.pass_obj
def waivers(env: Env, every: bool, as_json: bool) -> None:
    """Waivers (active ones unless --all)."""
    with open_store() as store:
        rows = store.baselines.waivers(include_inactive=every)
    if as_json:
        env.print_json({"waivers": rows})
        return
    if not rows:
        env.stdout.write(
            "no waivers\n"
            if every
            else "no active waivers (`--all` shows expired and revoked ones too)\n"
        )
        return
    _rows_table(
        env,
        rows,
        [
            "id",
            "job",
            "platform",
            "benchmark",
            "metric",
            "magnitude",
            "expires_at",
            "active",
            "created_by",
            "reason",
        ],
    )


@baseline.command()
@click.argument("waiver_id", type=int)
@click.pass_obj
def revoke(env: Env, waiver_id: int) -> None:
    """Stop a waiver applying before it expires."""
    with open_store() as store:
        store.baselines.revoke_waiver(waiver_id)
    env.stdout.write(f"waiver {waiver_id} revoked\n")
