"""Comparing counted metrics: near-exact, one repetition per side enough (docs/counters.md).

A counted metric (``Metric.counted``: instructions and callgrind's cache figures, perf's
instruction count) says what the code did, not how long the host took. Callgrind counts
the same program the same way on a noisy host, to within a few instructions that the
environment's size and address-space layout move. So no statistics are needed: the
ratio of the two sides' medians against a small band decides::

    regressed / improved   the change lies beyond the band (in the worse / better direction)
    same                   the change lies within the band
    unknown                a side's own counts differ by more than the band (the count is
                           not deterministic here: threads, timing-dependent work)

Bands (``compare.counted_band`` in a job overrides them all): 0.1% for callgrind's
counts, 0.5% for ``hw_instructions`` (perf counts interrupts' and the kernel's share
too). Every verdict's reason starts with "counted", so nobody reads it as a timing
claim, and its test is ``"counted"``.

Time and counts of one benchmark side by side tell where a change comes from:
:func:`findings` reports time regressed with the instruction count unchanged as "the
host, not the code", and the reverse (the code does more work; time could not show it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perflab.model import COUNTED_METRICS

if TYPE_CHECKING:
    from perflab.stats._common import Verdict

CALLGRIND_BAND = 0.001
BANDS: dict[str, float] = {
    "instructions": CALLGRIND_BAND,
    "l1_misses": CALLGRIND_BAND,
    "ll_misses": CALLGRIND_BAND,
    "estimated_cycles": CALLGRIND_BAND,
    "hw_instructions": 0.005,
}
#: the counted metric that stands for "the work the code did", in order of preference
WORK_METRICS = ("instructions", "hw_instructions")
#: timing metrics of the formats (time: wall_time; go, gbench, criterion ...: time)
TIME_METRICS = ("wall_time", "time")


def is_counted(metric: str, left: Any, right: Any) -> bool:
    """Is this pair of metrics (either may be None) a counted one?"""
    marked = any(getattr(m, "counted", False) for m in (left, right) if m is not None)
    return marked or metric in COUNTED_METRICS


def band_for(metric: str, override: float | None = None) -> float:
    return override if override is not None else BANDS.get(metric, CALLGRIND_BAND)


def _spread(samples: Sequence[float]) -> float:
    low, high = min(samples), max(samples)
    return high / low - 1.0 if low > 0 else (0.0 if high == low else float("inf"))


def _median(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _row(item: Any, band: float, verdict: Verdict, reason: str, **values: Any) -> Any:
    from perflab.stats import Comparison

    return Comparison(
        benchmark=item.benchmark,
        metric=item.metric,
        unit=item.unit,
        direction=item.direction,
        test="counted",
        noise_band=band,
        verdict=verdict,
        reason=reason,
        **values,
    )


def compare_counted(item: Any, band: float) -> Any:
    """The :class:`perflab.stats.Comparison` of one counted metric (``item`` a
    CompareInput)."""
    from perflab.stats import summarize

    if not item.base or not item.cand:
        side = "baseline" if not item.base else "candidate"
        return _row(item, band, "not_comparable", f"counted: {side}: the metric is missing")
    sides = {"base": summarize(item.base), "cand": summarize(item.cand)}
    for name, samples in (("baseline", item.base), ("candidate", item.cand)):
        if _spread(samples) > band:
            return _row(
                item,
                band,
                "unknown",
                (
                    f"counted: the {name}'s own counts differ by {_spread(samples):.2%}, more than "
                    f"the ±{band:.1%} band: the count is not deterministic here (threads, "
                    "timing-dependent work); compare it as a measurement"
                ),
                **sides,
            )
    b, c = _median(item.base), _median(item.cand)
    ratio = c / b if b else float("inf")
    change = ratio - 1.0
    numbers = f"{change:+.2%} ({b:,.0f} -> {c:,.0f} {item.unit or ''})".rstrip()
    if abs(change) <= band:
        return _row(
            item,
            band,
            "same",
            f"counted: {item.metric} {numbers} lies within the "
            f"±{band:.1%} band for counts: the same work",
            ratio=ratio,
            change=change,
            **sides,
        )
    worse = (change > 0) == (item.direction == "lower")
    return _row(
        item,
        band,
        "regressed" if worse else "improved",
        f"counted: {item.metric} {numbers} lies beyond the ±{band:.1%} band for "
        f"counts: {'more' if change > 0 else 'less'} work, "
        f"{'worse' if worse else 'better'}",
        ratio=ratio,
        change=change,
        **sides,
    )


@dataclass(frozen=True)
class Finding:
    """Time and counts of one benchmark disagree (or agree that something changed)."""

    benchmark: str
    kind: str  # host_not_code | work_hidden_by_noise
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"benchmark": self.benchmark, "kind": self.kind, "message": self.message}


def side_by_side(rows: Sequence[Any]) -> list[tuple[str, Any, Any]]:
    """(benchmark, time row, work row) for each benchmark that has both."""
    by_bench: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_bench.setdefault(row.benchmark, {})[row.metric] = row
    out = []
    for bench, metrics in by_bench.items():
        time = next((metrics[m] for m in TIME_METRICS if m in metrics), None)
        work = next((metrics[m] for m in WORK_METRICS if m in metrics), None)
        if time is not None and work is not None:
            out.append((bench, time, work))
    return out


def findings(rows: Sequence[Any]) -> list[Finding]:
    """What time and counts say together, per benchmark."""
    out = []
    for bench, time, work in side_by_side(rows):
        change = f"{time.change:+.1%}" if time.change is not None else "changed"
        if time.verdict == "regressed" and work.verdict == "same":
            out.append(
                Finding(
                    bench,
                    "host_not_code",
                    (
                        f"{time.metric} regressed {change} while {work.metric} (counted) "
                        f"did not change ({work.change:+.2%}): the host, not the code (look "
                        "at the run's environment: load, frequency, neighbours)"
                    ),
                )
            )
        elif work.verdict == "regressed" and time.verdict in ("same", "unknown"):
            out.append(
                Finding(
                    bench,
                    "work_hidden_by_noise",
                    (
                        f"{work.metric} (counted) regressed {work.change:+.2%} while {time.metric} "
                        f"is {time.verdict}: the code does more work; the timing cannot show "
                        "a change this small on this host"
                    ),
                )
            )
    return out


def compare_rows(
    pairs: Sequence[tuple[str, str, Any, Any]],
    inputs: Sequence[Any],
    statistics: Any,
    override: float | None = None,
) -> Any:
    """The comparison report of all ``inputs``: counted pairs here, the others through
    ``statistics`` (compare_many with the run's settings), rows in the pairs' order.
    Counted rows are not statistical tests: they do not enter the multiplicity count."""
    from dataclasses import replace

    counted = {i for i, (_, name, left, right) in enumerate(pairs) if is_counted(name, left, right)}
    measured = [i for i in range(len(inputs)) if i not in counted]
    report = statistics([inputs[i] for i in measured])
    rows: list[Any] = [None] * len(inputs)
    for j, i in enumerate(measured):
        rows[i] = report.rows[j]
    for i in counted:
        rows[i] = compare_counted(inputs[i], band_for(pairs[i][1], override))
    return replace(report, rows=tuple(rows))
