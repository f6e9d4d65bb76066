"""Pure statistics for perflab: summaries, comparisons, gates, flags, change points.

No I/O. numpy and scipy are imported inside this package only, and lazily:
``import perflab.stats`` is cheap, scipy loads on the first comparison. See
docs/statistics.md for what each verdict means and how it is decided.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.stats._common import VERDICTS, StatsInputError
    from perflab.stats.adaptive import Budget, RepetitionPlan, plan_repetitions
    from perflab.stats.changepoint import ChangePoint, change_points
    from perflab.stats.compare import (
        CompareInput,
        CompareReport,
        Comparison,
        compare_many,
        compare_samples,
    )
    from perflab.stats.gates import GateCheck, GateResult, evaluate_gate, gate_applies
    from perflab.stats.geomean import GeomeanRow
    from perflab.stats.paired import abba_order, compare_paired
    from perflab.stats.quality import Flag, quality_flags
    from perflab.stats.significance import bh_qvalues
    from perflab.stats.summary import Summary, summarize
    from perflab.stats.thresholds import GateSpecError, parse_fraction, parse_quantity

_HOME = {
    "VERDICTS": "_common",
    "StatsInputError": "_common",
    "Budget": "adaptive",
    "RepetitionPlan": "adaptive",
    "plan_repetitions": "adaptive",
    "ChangePoint": "changepoint",
    "change_points": "changepoint",
    "CompareInput": "compare",
    "CompareReport": "compare",
    "Comparison": "compare",
    "compare_many": "compare",
    "compare_samples": "compare",
    "GateCheck": "gates",
    "GateResult": "gates",
    "evaluate_gate": "gates",
    "gate_applies": "gates",
    "GeomeanRow": "geomean",
    "abba_order": "paired",
    "compare_paired": "paired",
    "Flag": "quality",
    "quality_flags": "quality",
    "bh_qvalues": "significance",
    "Summary": "summary",
    "summarize": "summary",
    "GateSpecError": "thresholds",
    "parse_fraction": "thresholds",
    "parse_quantity": "thresholds",
}

__all__ = [
    "VERDICTS",
    "Budget",
    "ChangePoint",
    "CompareInput",
    "CompareReport",
    "Comparison",
    "Flag",
    "GateCheck",
    "GateResult",
    "GateSpecError",
    "GeomeanRow",
    "RepetitionPlan",
    "StatsInputError",
    "Summary",
    "abba_order",
    "bh_qvalues",
    "change_points",
    "compare_many",
    "compare_paired",
    "compare_samples",
    "evaluate_gate",
    "gate_applies",
    "parse_fraction",
    "parse_quantity",
    "plan_repetitions",
    "quality_flags",
    "summarize",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'perflab.stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"perflab.stats.{module}"), name)
    globals()[name] = value
    return value
