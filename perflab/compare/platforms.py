"""The input of an aggregation, read from the store: runs with their platform, each
platform's baseline and each runner's calibration figure.

``perflab report RUN...`` calls :func:`platform_runs` with run ids; a sweep run is
the same list (its runs, one per platform), so ``report SWEEP_RUN`` needs only
to name the runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from perflab.compare.aggregate import PlatformRun
from perflab.compare.sides import Side, run_side
from perflab.errors import InputError, PerflabError

if TYPE_CHECKING:
    from perflab.store import Store


def platform_runs(
    store: Store, run_refs: Sequence[str], *, baseline: str | None = None
) -> list[PlatformRun]:
    """One PlatformRun per run id; a run id that is not stored is exit 3 naming it."""
    from perflab.compare.runs import learned_spreads

    parts = []
    for ref in run_refs:
        side = run_side(store, ref)
        platform = side.platform or side.runner or "unknown"
        parts.append(
            PlatformRun(
                platform=platform,
                run=side,
                baseline=_baseline(store, side, baseline),
                calibration=_calibration(store, side),
                spreads=learned_spreads(store, side, list(side.groups)),
            )
        )
    return parts


def _baseline(store: Store, side: Side, name: str | None) -> Side | None:
    """The baseline in force for the run's job, platform and branch (named ``name``, or
    the newest of any name); None when there is none, or it is this very run."""
    if side.job is None or side.platform is None:
        return None
    records = store.baselines.current(
        name, job=side.job, platform=side.platform, branch=side.branch or "-"
    )
    if not records and name is not None:
        raise InputError(
            f'no baseline "{name}" for job {side.job} on {side.platform}',
            field="--baseline",
            hint="see `perflab baseline list`",
        )
    records = [r for r in records if r["run_id"] not in (None, side.run_id)]
    if not records:
        return None
    record = max(records, key=lambda r: str(r.get("set_at") or ""))
    return run_side(
        store,
        record["run_id"],
        kind="baseline",
        label=f"baseline {record['name']} (run {record['run_id']})",
        baseline=record,
    )


def _calibration(store: Store, side: Side) -> float | None:
    if side.runner is None:
        return None
    found = store.calibrations.latest(side.runner)
    return None if found is None else float(found["ns_per_iteration"])


def load_history(
    store: Store, parts: Sequence[PlatformRun], keys: Sequence[tuple[str, str]], *, limit: int = 60
) -> None:
    """Each platform's stored series (median per completed run, oldest first) of the
    benchmark x metric ``keys``, with change points, into ``part.history``."""
    import statistics

    from perflab.stats import change_points

    for part in parts:
        if part.run.job is None:
            continue
        for bench, metric in keys:
            rows = store.runs.series(
                part.run.job, bench, metric, platform=part.run.platform, limit=limit
            )
            points: list[dict[str, Any]] = [
                {
                    "run_id": r["run_id"],
                    "started_at": r["started_at"],
                    "git_commit": r["git_commit"],
                    "median": statistics.median(r["samples"]),
                }
                for r in rows
                if r["samples"]
            ]
            found = change_points([p["median"] for p in points]) if len(points) >= 4 else []
            for cp in found:
                points[cp.index]["change_point"] = cp.to_dict()
            part.history[(bench, metric)] = points


def sweep_runs(
    store: Store, sweep_run_ref: str, *, baseline: str | None = None
) -> tuple[list[PlatformRun], dict[str, Any]]:
    """``perflab report SWEEP_RUN``: one PlatformRun per part of the sweep run that ran
    (labelled with its matrix values when the job has a matrix), each against the
    baseline its sweep's policy names, and the sweep run's record (which parts ran,
    failed or were skipped, and why: the report shows it)."""
    from perflab.compare.runs import learned_spreads

    doc = store.sweeps.run(sweep_run_ref)
    policy = str(doc.get("baseline_policy") or "current")
    if baseline is None and policy.startswith("name:"):
        baseline = policy.removeprefix("name:")
    previous = _previous_parts(store, doc) if policy == "previous" and baseline is None else {}
    parts = []
    for part in doc["parts"]:
        if part["state"] != "ran" or not part["run_ids"]:
            continue
        side = run_side(store, part["run_ids"][-1])
        label = part_label(part)
        base: Side | None
        if baseline is None and policy == "none":
            base = None
        elif baseline is None and policy == "previous":
            before = previous.get(label)
            base = run_side(store, before) if before else None
        else:
            base = _baseline(store, side, baseline)
        parts.append(
            PlatformRun(
                platform=label,
                run=side,
                baseline=base,
                calibration=_calibration(store, side),
                spreads=learned_spreads(store, side, list(side.groups)),
            )
        )
    if not parts:
        why = (
            "; ".join(
                f"{p['platform']}: {p['state']} ({p['reason'] or p['message'] or '-'})"
                for p in doc["parts"]
            )
            or "it has no parts"
        )
        raise PerflabError(
            f"sweep run {doc['sweep_run_id']}: no platform ran, nothing to report: {why}"
        )
    return parts, doc


def part_label(part: dict[str, Any]) -> str:
    """A sweep part's column in the report: its platform, and its matrix values."""
    matrix = part.get("matrix") or {}
    if not matrix:
        return str(part["platform"])
    return f"{part['platform']} [{', '.join(f'{k}={v}' for k, v in sorted(matrix.items()))}]"


def _previous_parts(store: Store, doc: dict[str, Any]) -> dict[str, str]:
    """Baseline policy ``previous``: per part label, the run of the same part in the sweep's
    run before this one (parts that did not run then have none)."""
    older = [
        r
        for r in store.sweeps.history(doc["sweep"], limit=100)
        if r["started_at"] and doc["started_at"] and r["started_at"] < doc["started_at"]
    ]
    for run in older:  # newest first
        found = {
            part_label(p): p["run_ids"][-1]
            for p in run["parts"]
            if p["state"] == "ran" and p["run_ids"]
        }
        if found:
            return found
    return {}
