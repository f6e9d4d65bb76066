"""Gates and waivers of a comparison: each gate decided per benchmark, gates over rows
that could not be measured neither pass nor fail, waived regressions reported as such."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.compare.engine import Outcome, Settings

WAIVER_SLACK = 1.5  # a change more than 1.5x the waived magnitude is reported anyway


def gates_for(
    spec: dict[str, Any],
    pairs: list[tuple[str, str, Any, Any]],
    inputs: list[Any],
    settings: Settings,
    rows: Sequence[Any] = (),
) -> list[Any]:
    """Each gate per benchmark. A row the comparison decided on the run level (its
    samples grouped by run and process) has its relative bounds decided on the same
    run-level interval, with the same run-to-run spread (``rows``: the comparison's rows,
    in the pairs' order): ``run`` with gates answers as ``compare``."""
    from perflab.stats import evaluate_gate, gate_applies

    results = []
    for gate in spec.get("gates") or []:
        for i, ((bench, name, _, _), item) in enumerate(zip(pairs, inputs, strict=True)):
            if item.cand is None or not gate_applies(gate, bench, name):
                continue
            result = evaluate_gate(
                gate,
                item.base,
                item.cand,
                direction=item.direction,
                unit=item.unit,
                confidence=settings.confidence,
                seed=settings.seed,
                runs=run_level(item, rows[i] if i < len(rows) else None),
            )
            results.append(_GateRow(bench, result))
    return results


def run_level(item: Any, row: Any) -> Any:
    """The run-level view of a compared row (None: a paired, ungrouped or non-positive
    row, which the comparison decides on samples too)."""
    import numpy as np

    from perflab.stats._rows import run_spread_of
    from perflab.stats.gates import RunLevel
    from perflab.stats.hierarchy import tree

    bg, cg = item.base_groups, item.cand_groups
    if item.paired or item.base is None or bg is None or cg is None:
        return None
    base, cand = np.asarray(item.base, dtype=float), np.asarray(item.cand, dtype=float)
    if len(bg) != base.size or len(cg) != cand.size or not base.size or not cand.size:
        return None
    if not (np.all(base > 0) and np.all(cand > 0) and np.all(np.isfinite(base))):
        return None
    median = None
    if row is not None and getattr(row, "runs", None) is not None and row.ratio_ci is not None:
        median = (float(row.ratio), (float(row.ratio_ci[0]), float(row.ratio_ci[1])))
    return RunLevel(tree(base, bg), tree(cand, cg), run_spread_of(item), median)


@dataclass
class _GateRow:
    """A gate's result for one benchmark."""

    benchmark: str
    result: Any
    unmeasured: bool = False  # the compared rows could not be measured: no pass or fail

    @property
    def outcome(self) -> str:
        return str(self.result.outcome)

    def to_dict(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark, **self.result.to_dict(), "unmeasured": self.unmeasured}


def gates_measured(gates: list[_GateRow], rows: Sequence[Any]) -> None:
    """A gate over a row that could not be measured neither passes nor fails."""
    from dataclasses import replace

    blocked = {(r.benchmark, r.metric): r.reason for r in rows if r.unmeasured}
    for gate in gates:
        reason = blocked.get((gate.benchmark, gate.result.metric))
        if reason is None or gate.result.outcome not in ("pass", "fail"):
            continue
        gate.unmeasured = True
        gate.result = replace(
            gate.result,
            outcome="unknown",
            reason=f"{reason} (the gate alone: {gate.result.reason})",
        )


def _waiver_for(row: Any, waivers: list[dict[str, Any]]) -> dict[str, Any] | None:
    for waiver in waivers:
        if fnmatch.fnmatchcase(row.benchmark, waiver["benchmark"]) and fnmatch.fnmatchcase(
            row.metric, waiver["metric"]
        ):
            return waiver
    return None


def apply_waivers(outcome: Outcome, waivers: list[dict[str, Any]]) -> None:
    for i, row in enumerate(outcome.report.rows):
        if row.verdict != "regressed":
            continue
        waiver = _waiver_for(row, waivers)
        if waiver is None:
            continue
        if abs(row.change or 0.0) <= waiver["magnitude"] * WAIVER_SLACK:
            outcome.waived[i] = waiver
        else:
            outcome.exceeded[i] = waiver
    waived = {
        (r.benchmark, r.metric) for i, r in enumerate(outcome.report.rows) if i in outcome.waived
    }
    for gate in outcome.gates:
        if gate.outcome == "fail" and (gate.benchmark, gate.result.metric) in waived:
            gate.result = _waived_gate(gate.result)


def _waived_gate(result: Any) -> Any:
    from dataclasses import replace

    return replace(result, outcome="waived", reason=f"waived: {result.reason}")
