"""A comparison's runs: a baseline of the last k runs, and the run-to-run spread.

Runs drift (docs/statistics.md, "Runs as a unit of variance"). Two things from
the store let a comparison see it:

* a baseline of several runs (``compare.baseline_runs: k``, ``compare
  --baseline-runs k``): the baseline run and the k - 1 completed runs of the same
  job on the same runner, platform and tuning fingerprint that precede it, merged
  into one side whose samples keep their run and process;
* the run-to-run spread learned from the job's history on that runner: the last
  ``HISTORY_RUNS`` completed runs of that evidence class up to the candidate (the
  candidate itself and contaminated runs left out), per benchmark and metric, and
  at least the median over the job's benchmarks of that metric (drift is shared).

The statistics (:mod:`perflab.stats.hierarchy`) stay pure; this module reads the
store and hands them numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perflab.compare.sides import Side, per_run_of, run_side

if TYPE_CHECKING:
    from perflab.store import Store

HISTORY_RUNS = 20
Key = tuple[str, str]


def widen_baseline(store: Store, base: Side, cand: Side, runs: int) -> Side:
    """``base`` and the ``runs - 1`` runs of its evidence class before it, as one side."""
    if runs <= 1 or base.run_id is None or base.job is None:
        return base
    found = store.runs.recent(
        base.job,
        runner=base.runner,
        platform=base.platform,
        fingerprint=base.fingerprint,
        until=base.run_id,
        limit=runs + len(cand.run_ids) + 1,
    )
    ids = [r["run_id"] for r in found if r["run_id"] not in cand.run_ids + base.run_ids]
    extra = [run_side(store, rid) for rid in ids[: runs - 1]]
    return merge(base, extra)


def merge(base: Side, others: list[Side]) -> Side:
    """One side made of several runs: samples appended, (run, process) labels kept."""
    if not others:
        return base
    from copy import deepcopy

    result = deepcopy(base.result)
    groups = {k: list(v) for k, v in base.groups.items()}
    flags = list(base.flags)
    for other in others:
        result.extend(other.result)
        # each run of the other side gets a run label of its own (a ``runs: N`` run is N)
        offset = 1 + max((r for labels in groups.values() for r, _ in labels), default=-1)
        for key, labels in other.groups.items():
            groups.setdefault(key, []).extend((offset + r, p) for r, p in labels)
        flags += [f for f in other.flags if f not in flags]
    ids = base.run_ids + [rid for o in others for rid in o.run_ids]
    label = f"{base.label} + {len(others)} earlier run{'s' if len(others) > 1 else ''}"
    from dataclasses import replace

    return replace(
        base, result=result, groups=groups, flags=flags, run_ids=ids, label=label, repetitions={}
    )


def learned_spreads(store: Store, cand: Side, keys: list[Key]) -> dict[Key, tuple[float, str]]:
    """Per benchmark and metric, the run-to-run spread the job's history on the
    candidate's runner shows (keys with fewer than 3 usable runs are left out)."""
    from perflab.stats.hierarchy import MIN_HISTORY_RUNS, run_spread

    if cand.job is None or not cand.run_ids:
        return {}
    found = store.runs.recent(
        cand.job,
        runner=cand.runner,
        platform=cand.platform,
        fingerprint=cand.fingerprint,
        until=cand.run_ids[0],
        limit=HISTORY_RUNS + len(cand.run_ids),
    )
    usable = [
        r
        for r in found
        if r["run_id"] not in cand.run_ids
        and not any(f.get("code") == "contaminated" for f in r["flags"])
    ][:HISTORY_RUNS]
    # a stored run of a ``runs: N`` job is N runs: each is one point of the history
    parts = [_parts(record.get("job_spec") or {}) for record in usable]
    if sum(count for count, _ in parts) < MIN_HISTORY_RUNS:  # too few to learn from
        return {}
    wanted = set(keys)
    series: dict[Key, list[list[float]]] = {}
    for record, (count, per_run_count) in zip(usable, parts, strict=True):
        if count <= 1:
            for key, values in store.runs.metric_values(record["run_id"]).items():
                if key in wanted:
                    series.setdefault(key, []).append(values)
            continue
        per_run: dict[tuple[Key, int], list[float]] = {}
        for row in store.runs.sample_rows(record["run_id"]):
            key = (row["benchmark"], row["metric"])
            if key in wanted:
                rep = row["repetition"]
                part = (max(rep - 1, 0) // per_run_count) if rep else 0
                per_run.setdefault((key, part), []).append(row["value"])
        for (key, _), values in per_run.items():
            series.setdefault(key, []).append(values)
    own = {
        key: (spread, len(runs))
        for key, runs in series.items()
        if (spread := run_spread(runs)) is not None
    }
    return {
        key: _pooled(key, spread, count, own, cand.runner) for key, (spread, count) in own.items()
    }


def _parts(spec: dict[str, object]) -> tuple[int, int]:
    """(runs, processes per run) of a stored run: (1, 0) for a run that is one run."""
    from perflab.spec.job import run_parts

    per_run = per_run_of(spec)
    return (1, 0) if per_run is None else (run_parts(spec)[0], per_run)


def _pooled(
    key: Key, spread: float, count: int, own: dict[Key, tuple[float, int]], runner: str | None
) -> tuple[float, str]:
    """A host's drift moves every benchmark of a run: a benchmark's spread is at least the
    median of its metric's spreads over the job's benchmarks (one quiet series does not
    make its benchmark immune to the next slow run)."""
    import statistics

    floor = statistics.median(s for (_, metric), (s, _) in own.items() if metric == key[1])
    used = max(spread, floor)
    pooled = (
        ""
        if used == spread
        else f" (its own {spread:.1%}, raised to the median of the job's benchmarks)"
    )
    return used, (
        f"run-to-run spread {used:.1%}{pooled} learned from {count} earlier runs "
        f"of this job on {runner}"
    )
