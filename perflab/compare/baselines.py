"""Setting baselines and waivers: the decisions, with who, when and why.

A baseline is (name, job, platform class, branch) -> run. Setting one first
compares the run with the baseline it replaces: a run that regressed (or that
failed, or failed its noise probe) becomes a baseline only with an explicit
reason. Nothing is overwritten: every change is a new, kept record.
"""

from __future__ import annotations

import fnmatch
import getpass
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from perflab.compare.engine import compare_sides
from perflab.compare.runs import learned_spreads
from perflab.compare.sides import run_side
from perflab.errors import InputError
from perflab.names import unmatched_patterns
from perflab.spec.units import fraction

if TYPE_CHECKING:
    from perflab.store import Store

_DURATION = re.compile(r"^(\d+)\s*([dwh])$")


def who(by: str | None = None) -> str:
    if by:
        return by
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _objections(store: Store, name: str, cand: Any, branch: str) -> list[str]:
    """Why this run should not silently become the baseline (empty: no objection)."""
    objections = []
    if cand.status != "completed":
        objections.append(f"run {cand.run_id} is {cand.status}")
    if cand.noise_probe_failure:
        objections.append(f"run {cand.run_id} failed its noise probe")
    if cand.contamination:
        objections.append(f"run {cand.run_id} was contaminated ({cand.contamination})")
    current = store.baselines.current(name, job=cand.job, platform=cand.platform, branch=branch)
    if not current or current[0]["run_id"] in (None, cand.run_id):
        return objections
    base = run_side(store, current[0]["run_id"], kind="baseline")
    try:
        outcome = compare_sides(
            base,
            cand,
            waivers=store.baselines.waivers(job=cand.job, platform=cand.platform),
            spreads=learned_spreads(store, cand, list(cand.groups)),
        )
    except InputError as exc:
        return [*objections, f"it cannot be compared with the current baseline: {exc}"]
    for i in outcome.regressed_rows:
        row = outcome.report.rows[i]
        objections.append(
            f"{row.benchmark} {row.metric} regressed {row.change:+.1%} against "
            f"baseline {name} (run {base.run_id})"
        )
    objections += [f"gate failed: {g.benchmark}: {g.result.reason}" for g in outcome.failed_gates]
    return objections


def set_baseline(
    store: Store,
    name: str,
    run_ref: str,
    *,
    reason: str | None = None,
    branch: str | None = None,
    benchmark: str = "*",
    by: str | None = None,
) -> dict[str, Any]:
    cand = run_side(store, run_ref)
    if cand.job is None or cand.platform is None:
        raise InputError(f"run {cand.run_id} has no job or platform to key a baseline by")
    branch = branch or cand.branch or "-"
    objections = _objections(store, name, cand, branch)
    if objections and not reason:
        raise InputError(
            f"run {cand.run_id} does not become baseline {name} silently: "
            + "; ".join(objections[:5]),
            hint="give --reason if it should anyway (it is recorded)",
        )
    store.baselines.record(
        name=name,
        job=cand.job,
        platform=cand.platform,
        branch=branch,
        benchmark=benchmark,
        run_id=cand.run_id,
        action="set",
        reason=reason,
        set_by=who(by),
    )
    record = store.baselines.current(name, job=cand.job, platform=cand.platform, branch=branch)[0]
    return {**record, "objections": objections}


def unset_baseline(
    store: Store,
    name: str,
    *,
    job: str,
    platform: str,
    branch: str,
    reason: str,
    by: str | None = None,
) -> None:
    record = store.baselines.resolve(name, job=job, platform=platform, branch=branch)
    store.baselines.record(
        name=name,
        job=record["job"],
        platform=record["platform"],
        branch=record["branch"],
        benchmark=record["benchmark"],
        run_id=None,
        action="unset",
        reason=reason,
        set_by=who(by),
    )


def expiry(text: str, now: datetime | None = None) -> datetime:
    """ "2026-12-31" (end of that day, UTC), or a duration from now: "30d", "2w", "12h"."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text.strip())
    if match:
        count, unit = int(match.group(1)), match.group(2)
        delta = {
            "d": timedelta(days=count),
            "w": timedelta(weeks=count),
            "h": timedelta(hours=count),
        }[unit]
        return now + delta
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InputError(
            f'expected a date like 2026-12-31 or a duration like "30d", got "{text}"',
            field="--expires",
        ) from None
    when = day + timedelta(days=1)
    if when <= now:
        raise InputError(f"expected a date in the future, got {text}", field="--expires")
    return when


def add_waiver(
    store: Store,
    *,
    benchmark: str,
    metric: str,
    magnitude: str,
    reason: str,
    expires: str,
    job: str | None = None,
    platform: str | None = None,
    by: str | None = None,
) -> int:
    try:
        size = fraction(magnitude)
    except ValueError:
        size = None
    if size is None or not 0 < size < 10:
        raise InputError(f'expected a magnitude like "5%", got "{magnitude}"', field="--magnitude")
    if not reason.strip():
        raise InputError("a waiver needs a reason", field="--reason")
    if job:
        _check_scope(store.runs.metric_names(job), job, benchmark, metric)
    return store.baselines.add_waiver(
        job=job,
        benchmark=benchmark,
        metric=metric,
        platform=platform,
        magnitude=size,
        reason=reason,
        expires_at=expiry(expires),
        created_by=who(by),
    )


def _check_scope(present: list[tuple[str, str]], job: str, benchmark: str, metric: str) -> None:
    """A waiver of a job must match something its stored runs have (none stored: no check)."""
    if not present:
        return
    what = f"of job {job}'s runs"
    benches = [b for b, _ in present]
    errors = unmatched_patterns(
        [benchmark], benches, field="--benchmark", what=f"a benchmark {what}"
    )
    metrics = [m for b, m in present if fnmatch.fnmatchcase(b, benchmark)]
    errors = errors or unmatched_patterns(
        [metric], metrics, field="--metric", what=f"a metric {what}"
    )
    if errors:
        raise errors[0]
