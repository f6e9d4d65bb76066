"""The result types of a comparison: what goes in (CompareInput) and what comes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perflab.stats._common import Samples, Verdict, jf, jpair
from perflab.stats.quality import Flag
from perflab.stats.summary import Summary


@dataclass(frozen=True)
class CompareInput:
    """One benchmark x metric to compare. ``paired``: base[i] and cand[i] ran as an A/B pair.

    A side may be None when the metric is missing from that run: the row is
    then ``not_comparable`` ("baseline: the metric is missing").
    """

    base: Samples | None
    cand: Samples | None
    direction: str = "lower"
    benchmark: str = ""
    metric: str = ""
    unit: str | None = None
    paired: bool = False
    base_noise_probe_failure: str | None = None
    cand_noise_probe_failure: str | None = None
    #: contamination measured during the run (the run's ``contaminated`` flag message)
    base_contamination: str | None = None
    cand_contamination: str | None = None
    #: a deterministic metric (allocs/op, B/op, counted instructions): compared exactly,
    #: any change beyond ``tolerance`` (a fraction; 0: exact) is reported
    exact: bool = False
    tolerance: float = 0.0
    #: where each sample came from, as (run, process) labels: the comparison then resamples
    #: runs, then processes, then a process's iterations (see perflab.stats.hierarchy)
    base_groups: Sequence[tuple[int, int]] | None = None
    cand_groups: Sequence[tuple[int, int]] | None = None
    #: run-to-run spread (standard deviation of a run's log median) and where it came from
    run_spread: float | None = None
    run_spread_source: str = ""

    @property
    def hierarchical(self) -> bool:
        return self.base_groups is not None and self.cand_groups is not None


@dataclass(frozen=True)
class Comparison:
    """The outcome for one benchmark x metric (ratio = candidate median / baseline median)."""

    benchmark: str
    metric: str
    unit: str | None
    direction: str
    verdict: Verdict
    reason: str
    base: Summary | None = None
    cand: Summary | None = None
    ratio: float | None = None
    ratio_ci: tuple[float, float] | None = None
    change: float | None = None
    pvalue: float | None = None
    band_pvalue: float | None = None
    qvalue: float | None = None
    test: str = "mann-whitney-u"
    decision_ci: tuple[float, float] | None = None
    decision_level: float | None = None
    noise_band: float = 0.01
    confidence: float = 0.95
    paired: bool = False
    base_flags: tuple[Flag, ...] = ()
    cand_flags: tuple[Flag, ...] = ()
    #: why no confident verdict could be given (flag codes: contaminated, noisy_host,
    #: bimodal_mix): the row could not be measured, which is not the same as "unknown"
    unmeasured: tuple[str, ...] = ()
    exact: bool = False
    #: (baseline runs, candidate runs) and the run-to-run spread the decision allowed for
    runs: tuple[int, int] | None = None
    run_spread: float | None = None
    run_spread_source: str = ""

    @property
    def mwu_pvalue(self) -> float | None:
        """Mann-Whitney U p-value (None for paired rows, whose test is Wilcoxon)."""
        return self.pvalue if self.test == "mann-whitney-u" else None

    @property
    def flags(self) -> tuple[Flag, ...]:
        return self.base_flags + self.cand_flags

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "unit": self.unit,
            "direction": self.direction,
            "verdict": self.verdict,
            "reason": self.reason,
            "base": None if self.base is None else self.base.to_dict(),
            "cand": None if self.cand is None else self.cand.to_dict(),
            "ratio": jf(self.ratio),
            "ratio_ci": jpair(self.ratio_ci),
            "change": jf(self.change),
            "test": self.test,
            "pvalue": jf(self.pvalue),
            "mwu_pvalue": jf(self.mwu_pvalue),
            "band_pvalue": jf(self.band_pvalue),
            "qvalue": jf(self.qvalue),
            "decision_ci": jpair(self.decision_ci),
            "decision_level": jf(self.decision_level),
            "noise_band": self.noise_band,
            "confidence": self.confidence,
            "paired": self.paired,
            "base_flags": [f.to_dict() for f in self.base_flags],
            "cand_flags": [f.to_dict() for f in self.cand_flags],
            "unmeasured": list(self.unmeasured),
            "exact": self.exact,
            "runs": None if self.runs is None else list(self.runs),
            "run_spread": jf(self.run_spread),
            "run_spread_source": self.run_spread_source,
        }
