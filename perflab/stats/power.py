"""When a row's size, not its noise, keeps a change from being confirmed.

A rank test has a smallest p-value it can give at a size: a signed-rank test of
``n`` pairs cannot go below ``2^(1-n)`` (every pair moved the same way), a
Mann-Whitney U of ``n`` and ``m`` samples not below ``2 / C(n+m, n)`` (the sides
do not overlap). Across ``m`` rows the Benjamini-Hochberg step asks more of each
row. With 6 pairs and 5 metrics, a wall time that went up 60x in every pair
gives p = 0.031 and q = 0.16: "unknown" is right, but "add repetitions" at exit
0 reads as "nothing happened" to a gate. When the interval that decides lies
beyond the band and the test is at (or cannot reach) its limit, the row was not
measured with enough repetitions to decide: :func:`size_limit` says so, with the
number of repetitions a side that could confirm it alone, and the row becomes
*unmeasured* (``too_few_repetitions``, exit 4).

Data that disagree (a p-value above the floor) stay ordinary ``unknown``: more
repetitions might not help, and the interval already says how much is known.
"""

from __future__ import annotations

import math

from perflab.stats.significance import min_mwu_pvalue

CODE = "too_few_repetitions"
_AT_FLOOR = 1.01  # a p-value within 1% of the floor is at it (ties change the last digits)


def min_pvalue(paired: bool, n_base: int, n_cand: int) -> float:
    """The smallest two-sided p-value the row's rank test can give at these sizes."""
    if paired:
        return min(1.0, 2.0 ** (1 - n_base)) if n_base <= 50 else 0.0
    return min_mwu_pvalue(n_base, n_cand)


def repetitions_needed(paired: bool, alpha: float) -> int:
    """Fewest repetitions a side (pairs when paired) whose floor reaches ``alpha``."""
    for n in range(2, 1000):
        if min_pvalue(paired, n, n) <= alpha:
            return n
    return 1000


def size_limit(
    *,
    paired: bool,
    n_base: int,
    n_cand: int,
    band_pvalue: float,
    floor: float,
    q: float,
    cut: float,
    tested: int,
    decision_ci: tuple[float, float],
    noise_band: float,
    test_name: str,
    sym: str,
) -> str | None:
    """Why the row's size kept a beyond-band interval from a verdict, or None.

    ``decision_ci`` is on the log scale. ``tested`` is the number of rows the
    false-discovery step covered (1 without it).
    """
    edge = math.log1p(noise_band)
    lo, hi = decision_ci
    if not (lo > edge or hi < -edge) or q <= cut:
        return None
    unit = "pairs" if paired else "repetitions a side"
    size = f"{n_base} pairs" if paired else f"{n_base} and {n_cand} samples"
    need = repetitions_needed(paired, cut / max(tested, 1))
    need_text = f"at least {need} {unit} are needed to confirm a change"
    if floor > cut:
        return (
            f"only {size}: the {test_name} test cannot reach {sym} <= {cut:g} at this size, "
            f"so the interval beyond the band cannot be confirmed; {need_text}"
        )
    if band_pvalue > floor * _AT_FLOOR:
        return None
    across = f" across the {tested} rows tested" if tested > 1 else ""
    how = "every pair moved the same way" if paired else "the sides do not overlap"
    return (
        f"{how}, p = {band_pvalue:.2g}, the smallest the {test_name} test gives with {size}, "
        f"and that is not {sym} <= {cut:g}{across}; {need_text}"
    )
