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

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.compare.sides import Side, per_run_of, run_side

if TYPE_CHECKING:
    from perflab.stats._common import FloatArray
    from perflab.store import Store

HISTORY_RUNS = 20
Key = tuple[str, str]
Points = tuple[tuple[str, ...], "FloatArray"]  # a key's history: run ids, log medians


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
    from perflab.stats.hierarchy import MIN_HISTORY_RUNS, log_medians

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
    columns: list[tuple[str, list[Key], FloatArray]] = []  # a run: id, keys, log medians
    for record, (count, per_run_count) in zip(usable, parts, strict=True):
        rid = record["run_id"]
        if count <= 1:
            names, lengths, values = store.runs.metric_table(rid)
            columns.append((rid, names, _table_medians(lengths, values)))
            continue
        per_run: dict[int, dict[Key, list[float]]] = {}
        for row in store.runs.sample_rows(rid):
            key = (row["benchmark"], row["metric"])
            if key in wanted:
                rep = row["repetition"]
                part = (max(rep - 1, 0) // per_run_count) if rep else 0
                per_run.setdefault(part, {}).setdefault(key, []).append(row["value"])
        for _, samples in sorted(per_run.items()):
            columns.append((rid, list(samples), log_medians(list(samples.values()))))
    return _spreads(_points(columns, wanted), cand.runner)


def _table_medians(lengths: list[int], values: FloatArray) -> FloatArray:
    """The log median of each metric of a stored run (NaN where none): one table when
    every metric has as many samples (the usual case)."""
    from perflab.stats.hierarchy import log_medians, log_medians_table

    if lengths and min(lengths) == max(lengths) > 0:
        return log_medians_table(values.reshape(len(lengths), lengths[0]))
    return log_medians(np.split(values, np.cumsum(lengths)[:-1])) if lengths else np.empty(0)


def _points(
    columns: list[tuple[str, list[Key], FloatArray]], wanted: set[Key]
) -> dict[Key, Points]:
    """Per wanted key, the history's runs that have it (their stored run ids) and their log
    medians, in the history's order. When every run has the same keys (the usual case),
    the keys that every run measured share one tuple of run ids, taken from one table."""
    if not columns:
        return {}
    rids = tuple(rid for rid, _, _ in columns)
    names = columns[0][1]
    found: dict[Key, Points] = {}
    rest: list[tuple[str, list[Key], FloatArray]] = columns
    if all(column[1] == names for column in columns[1:]):
        rows = [i for i, key in enumerate(names) if key in wanted]
        table = np.column_stack([medians[rows] for _, _, medians in columns])
        complete = ~np.isnan(table).any(axis=1)
        found = {names[rows[i]]: (rids, table[i]) for i in np.flatnonzero(complete).tolist()}
        rest = columns if not complete.all() else []
    gathered: dict[Key, tuple[list[str], list[float]]] = {}
    for rid, keys, medians in rest:
        for key, median in zip(keys, medians.tolist(), strict=True):
            if key in wanted and key not in found and not math.isnan(median):
                runs, values = gathered.setdefault(key, ([], []))
                runs.append(rid)
                values.append(median)
    found.update(
        (key, (tuple(runs), np.asarray(values))) for key, (runs, values) in gathered.items()
    )
    return found


#: how a learned spread's source says that one earlier run makes most of it (read back by
#: the text report, :func:`outlier_of`)
_OUTLIER = "; one of them, run {run} ({shift:+.0%} from the others), makes most of it: "
_OUTLIER_RE = (
    r"; one of them, run (\S+) \(([-+]\d+)% from the others\), makes most of it: "
    r"([\d.]+)% without it"
)


def _spreads(points: dict[Key, Points], runner: str | None) -> dict[Key, tuple[float, str]]:
    """The spreads of :func:`learned_spreads` from each key's points.

    A run far from the rest can make most of a learned spread: a code change that stayed
    in the history (measured: one 2x slower run of 20 took Go's sort suite from 2-8% to
    21-26%), or one burst of host drift. Both look alike from the numbers, so the spread
    keeps it, and the source says which run it is and what the spread is without it.
    Keys with the same runs (the usual case: every benchmark of every run) are one table."""
    from perflab.stats.hierarchy import spreads_of_medians

    tables: dict[tuple[str, ...], list[Key]] = {}
    for key, (rids, _) in points.items():
        tables.setdefault(rids, []).append(key)
    own: dict[Key, float] = {}
    tops: dict[Key, str] = {}
    for rids, group in tables.items():
        table = np.asarray([points[key][1] for key in group])
        spreads = spreads_of_medians(table).tolist()
        top = _farthest(rids, table)
        for i, key in enumerate(group):
            if not math.isnan(spreads[i]):  # enough runs
                own[key] = spreads[i]
                if top is not None:
                    tops[key] = top[i]
    used = _pooled(own)
    out = {
        key: (used[key], _source(used[key], own[key], len(points[key][0]), runner)) for key in own
    }
    counts = Counter(tops.values()).most_common(1)
    if not counts or counts[0][1] * 2 <= len(own):  # no run is the farthest for most keys
        return out
    outlier = counts[0][0]
    less: dict[Key, float] = {}
    shifts: dict[Key, float] = {}
    for rids, group in tables.items():
        mine = np.asarray([rid == outlier for rid in rids])
        if not mine.any() or mine.all():  # the run is not in this history, or is all of it
            continue
        table = np.asarray([points[key][1] for key in group])
        spreads = spreads_of_medians(table[:, ~mine]).tolist()
        moved = np.expm1(table[:, mine].mean(axis=1) - np.median(table[:, ~mine], axis=1))
        for key, spread, shift in zip(group, spreads, moved.tolist(), strict=True):
            if key in own and not math.isnan(spread):
                less[key], shifts[key] = spread, shift
    for key, without in _pooled(less).items():
        if without * 2 <= used[key]:
            note = _OUTLIER.format(run=outlier, shift=shifts[key]) + f"{without:.1%} without it"
            out[key] = (used[key], out[key][1] + note)
    return out


def _farthest(rids: tuple[str, ...], table: FloatArray) -> list[str] | None:
    """Per row of a (keys, runs) table of log medians, the stored run whose points lie
    farthest (on average) from the row's median; None when the runs are one stored run."""
    names = list(dict.fromkeys(rids))
    if len(names) < 2:
        return None
    away = np.abs(table - np.median(table, axis=1, keepdims=True))
    column = np.asarray([names.index(rid) for rid in rids])
    per_run = np.stack([away[:, column == j].mean(axis=1) for j in range(len(names))], axis=1)
    return [names[j] for j in per_run.argmax(axis=1).tolist()]


def outlier_of(source: str) -> tuple[str, int, float] | None:
    """(run, shift in percent, spread without it) when a learned spread's source says one
    earlier run makes most of it."""
    import re

    found = re.search(_OUTLIER_RE, source)
    if found is None:
        return None
    return found.group(1), int(found.group(2)), float(found.group(3)) / 100


def spread_outliers(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Per earlier run that makes most of the learned spread of some rows: how many rows
    of how many with runs, its shift from the other runs and the spread without it
    (low, high over those rows; fractions). For the JSON and the text output alike."""
    with_runs = [r for r in rows if getattr(r, "runs", None)]
    found: dict[str, list[tuple[int, float]]] = {}
    for row in with_runs:
        if (outlier := outlier_of(row.run_spread_source)) is not None:
            found.setdefault(outlier[0], []).append(outlier[1:])
    return [
        {
            "run": run,
            "rows": len(notes),
            "of_rows": len(with_runs),
            "shift": [min(s for s, _ in notes) / 100, max(s for s, _ in notes) / 100],
            "spread_without": [min(w for _, w in notes), max(w for _, w in notes)],
        }
        for run, notes in found.items()
    ]


def _parts(spec: dict[str, object]) -> tuple[int, int]:
    """(runs, processes per run) of a stored run: (1, 0) for a run that is one run."""
    from perflab.spec.job import run_parts

    per_run = per_run_of(spec)
    return (1, 0) if per_run is None else (run_parts(spec)[0], per_run)


def _pooled(own: dict[Key, float]) -> dict[Key, float]:
    """A host's drift moves every benchmark of a run: a benchmark's spread is at least the
    median of its metric's spreads over the job's benchmarks (one quiet series does not
    make its benchmark immune to the next slow run)."""
    by_metric: dict[str, list[float]] = {}
    for (_, metric), spread in own.items():
        by_metric.setdefault(metric, []).append(spread)
    floor = {metric: statistics.median(spreads) for metric, spreads in by_metric.items()}
    return {key: max(spread, floor[key[1]]) for key, spread in own.items()}


def _source(used: float, spread: float, count: int, runner: str | None) -> str:
    pooled = (
        ""
        if f"{used:.1%}" == f"{spread:.1%}"
        else f" (its own {spread:.1%}, raised to the median of the job's benchmarks)"
    )
    return (
        f"run-to-run spread {used:.1%}{pooled} learned from {count} earlier runs "
        f"of this job on {runner}"
    )
