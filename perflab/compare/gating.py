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
) -> list[Any]:
    from perflab.stats import evaluate_gate, gate_applies

    results = []
    for gate in spec.get("gates") or []:
        for (bench, name, _, _), item in zip(pairs, inputs, strict=True):
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
            )
            results.append(_GateRow(bench, result))
    return results


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
