"""The verdict rule shared by two-sample, paired and summary comparisons.

On the log scale, with ``edge = log(1 + noise_band)`` (the band is symmetric
in ratio: +1% and -0.99% for the default 1%, so swapping sides flips the
verdict exactly):

* **regressed / improved**: the whole decision CI lies beyond the band on one
  side *and* the rank test confirms a shift beyond the band (its q <= fdr, or
  p <= 1 - confidence for a single comparison). Which of the two depends on
  the direction.
* **same**: the whole marginal CI lies inside the band. A change may exist, but
  it is smaller than the noise band, so it does not matter.
* **unknown**: anything else (the CI straddles a band edge; the CI is beyond
  the band but the test does not confirm it; too few samples for the test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from perflab.stats._common import EDGE_TOLERANCE, Direction, Verdict, expm1, fmt_pct


@dataclass(frozen=True)
class Evidence:
    """What a verdict is decided from (all ratios on the log scale)."""

    direction: Direction
    log_ratio: float
    ci: tuple[float, float]  # marginal CI at `confidence`: decides "same"
    decision_ci: tuple[float, float]  # FCR-adjusted CI: decides regressed/improved
    confidence: float
    decision_level: float
    noise_band: float
    significant: bool | None  # None: no test (geometric-mean rows)
    test_text: str  # e.g. "the Mann-Whitney U band test (q = 0.003 <= 0.05)"
    what: str = "median"


def decide(ev: Evidence) -> tuple[Verdict, str]:
    """Verdict and a one-sentence reason."""
    edge = math.log1p(ev.noise_band)
    lo, hi = ev.decision_ci
    band = _band_text(ev.noise_band)
    point = f"{ev.what} {fmt_pct(expm1(ev.log_ratio))}"
    beyond = lo > edge + EDGE_TOLERANCE or hi < -edge - EDGE_TOLERANCE
    if beyond and ev.significant is not False:
        worse = (lo > 0) == (ev.direction == "lower")
        word = "worse" if worse else "better"
        dci = _ci_text(ev.decision_ci, ev.decision_level)
        test = f" and {ev.test_text} confirms a shift beyond the band" if ev.significant else ""
        return (
            "regressed" if worse else "improved",
            f"{point} ({dci}) lies wholly beyond the {band}{test}: {word}",
        )
    if -edge - EDGE_TOLERANCE <= ev.ci[0] and ev.ci[1] <= edge + EDGE_TOLERANCE:
        ci = _ci_text(ev.ci, ev.confidence)
        return "same", f"{point} ({ci}) lies inside the {band}: no change that matters"
    dci = _ci_text(ev.decision_ci, ev.decision_level)
    if beyond:
        return "unknown", (
            f"{point} ({dci}) is beyond the {band}, but {ev.test_text} does "
            "not confirm a shift beyond the band: add repetitions"
        )
    return "unknown", (
        f"{point} ({dci}) straddles the edge of the {band}"
        f"{_marginal_note(ev, edge)}: the data cannot tell a change beyond the "
        "band from noise; add repetitions"
    )


def _marginal_note(ev: Evidence, edge: float) -> str:
    """When the reported CI lies beyond the band but the wider decision CI does not."""
    lo, hi = ev.ci
    if ev.decision_level <= ev.confidence or not (lo > edge or hi < -edge):
        return ""
    return (
        f" (the {_ci_text(ev.ci, ev.confidence)} alone lies beyond it, but the decision "
        f"is taken at the {_level(ev.decision_level)} level the comparison's other rows "
        "require)"
    )


def _ci_text(ci: tuple[float, float], level: float) -> str:
    return f"{_level(level)} CI {fmt_pct(expm1(ci[0]))} .. {fmt_pct(expm1(ci[1]))}"


@lru_cache(maxsize=64)  # a comparison's rows share one band
def _band_text(noise_band: float) -> str:
    return f"±{noise_band:.1%} noise band"


@lru_cache(maxsize=256)  # a comparison's rows share two or three levels
def _level(level: float) -> str:
    text = f"{level * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"
