"""Exports for the tools labs already use (pure: data in, text out).

* Bencher Metric Format (BMF) JSON, as bencher.dev documents it
  (https://bencher.dev/docs/reference/bencher-metric-format): an object of
  benchmark name -> measure name -> ``{"value", "lower_value", "upper_value"}``.
  The value is the median, the bounds its 95% CI. With several platforms the
  benchmark name is prefixed by the platform (``linux-x86_64/BM_Sort``), since
  BMF has no platform field (Bencher's testbed is given to ``bencher run``).
* github-action-benchmark's custom tools
  (https://github.com/benchmark-action/github-action-benchmark): a JSON array
  of ``{"name", "unit", "value", "range", "extra"}``; ``customSmallerIsBetter``
  takes lower-is-better metrics, ``customBiggerIsBetter`` higher-is-better ones,
  so each export holds one direction.
* JUnit XML of gate results: one testsuite per platform (or one for a compare),
  one testcase per gate and benchmark; a failed gate is a failed testcase.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    from perflab.compare.aggregate import Aggregate
    from perflab.compare.engine import Outcome


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _name(agg: Aggregate, platform: str, benchmark: str) -> str:
    return benchmark if len(agg.platforms) == 1 else f"{platform}/{benchmark}"


def bmf(agg: Aggregate) -> str:
    doc: dict[str, dict[str, dict[str, float]]] = {}
    for row in agg.rows:
        for platform, cell in row.cells.items():
            if not _finite(cell.median):
                continue
            measure = {"value": cell.median}
            if _finite(cell.ci[0]) and _finite(cell.ci[1]):
                measure.update(lower_value=cell.ci[0], upper_value=cell.ci[1])
            doc.setdefault(_name(agg, platform, row.benchmark), {})[row.metric] = measure
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def github_benchmark(agg: Aggregate, direction: str) -> str:
    """``direction`` "lower" (customSmallerIsBetter) or "higher" (customBiggerIsBetter)."""
    out: list[dict[str, Any]] = []
    for row in agg.rows:
        if row.direction != direction:
            continue
        for platform, cell in row.cells.items():
            if not _finite(cell.median):
                continue
            half = (cell.ci[1] - cell.ci[0]) / 2.0
            extra = f"n={cell.n}; 95% CI of the median [{cell.ci[0]:.6g}, {cell.ci[1]:.6g}]"
            if cell.change is not None:
                extra += f"; {cell.change:+.2%} vs baseline: {cell.verdict}"
            out.append(
                {
                    "name": f"{_name(agg, platform, row.benchmark)} ({row.metric})",
                    "unit": row.unit,
                    "value": cell.median,
                    "range": f"± {half:.6g}",
                    "extra": extra,
                }
            )
    return json.dumps(out, indent=2, allow_nan=False) + "\n"


def junit_xml(outcome: Outcome) -> str:
    """A compare's gates: one testsuite."""
    return _junit([(outcome.cand.label, [g.to_dict() for g in outcome.gates])])


def junit_from_aggregate(agg: Aggregate) -> str:
    """A report's gates: one testsuite per platform that had a baseline to gate against."""
    return _junit(list(agg.gates.items()))


def _junit(suites: list[tuple[str, list[dict[str, Any]]]]) -> str:
    root = ET.Element("testsuites", name="perflab gates")
    total = failed = 0
    for name, gates in suites:
        fails = sum(g["outcome"] == "fail" for g in gates)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(gates)),
            failures=str(fails),
            errors="0",
            skipped=str(sum(g["outcome"] not in ("pass", "fail") for g in gates)),
        )
        for gate in gates:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"perflab.gates.{name}",
                name=f"{gate['benchmark']} {gate['name']}",
                time="0",
            )
            if gate["outcome"] == "fail":
                failure = ET.SubElement(
                    case, "failure", message=gate["reason"], type="perflab.gate"
                )
                failure.text = json.dumps(gate.get("checks", []), indent=1)
            elif gate["outcome"] != "pass":
                ET.SubElement(case, "skipped", message=f"{gate['outcome']}: {gate['reason']}")
        total, failed = total + len(gates), failed + fails
    root.set("tests", str(total))
    root.set("failures", str(failed))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
