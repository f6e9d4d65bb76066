"""What a comparison's names must match: gates, waivers, ``--metric`` and ``--benchmark``.

A name that matches nothing would make ``compare`` silently check nothing (a gate on
``time`` when the runs have ``wall_time`` used to print ``"gates": []`` and exit 0). Each is
checked against what the compared runs actually hold; a miss is exit 3 with the names there
are and the closest one. Gates are checked against the candidate (the side they judge);
waivers of this job, ``--metric`` and ``--benchmark`` against either side. A waiver for every
job (no ``--job``) is not checked: it cannot be expected to fit every job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perflab.compare.sides import Side
from perflab.errors import SpecErrors
from perflab.names import gate_errors, unmatched_patterns, waiver_errors

BOTH = "of the compared runs"


def check_names(
    base: Side,
    cand: Side,
    spec: dict[str, Any],
    *,
    waivers: Sequence[dict[str, Any]],
    metrics: Sequence[str] | None,
    benchmarks: Sequence[str] | None,
) -> None:
    """Raise InputError (SpecErrors for several) for every name that matches nothing."""
    either = list(dict.fromkeys(_present(base) + _present(cand)))
    errors = unmatched_patterns(
        metrics or (), [m for _, m in either], field="--metric", what=f"a metric {BOTH}"
    )
    errors += unmatched_patterns(
        benchmarks or (), [b for b, _ in either], field="--benchmark", what=f"a benchmark {BOTH}"
    )
    errors += gate_errors(spec.get("gates") or [], _present(cand), what=f"of {cand.label}")
    jobs = {base.job, cand.job} - {None}
    errors += waiver_errors([w for w in waivers if w.get("job") in jobs], either, what=BOTH)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SpecErrors(errors)


def _present(side: Side) -> list[tuple[str, str]]:
    """(benchmark, metric) pairs of a side, in the side's order."""
    return [(b.name, m) for b in side.result.benchmarks for m in b.metrics]
