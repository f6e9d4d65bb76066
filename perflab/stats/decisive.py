"""Flags that decide: a side that was not measured cleanly gets no confident verdict.

Three kinds of evidence make a row *unmeasured* (verdict ``unknown``, with the
reason and the raw ratio, and the row's ``unmeasured`` codes set), whatever its
interval says, because the interval then describes the interference, not the code:

* ``contaminated``: other tasks used the benchmark's CPUs while it ran (the run's
  ``contaminated`` flag, measured per repetition by the harness);
* ``noisy_host``: the host failed its noise probe before the run;
* ``bimodal_mix``: a metric with two modes on either side whose modes are mixed in
  different proportions on the two sides (Fisher's exact test, p < 0.05): the
  ratio then measures which mode the processes landed in. Both sides must show
  both modes (at least 3 samples and 10% in each): a side wholly in one mode, or
  beyond both, may have moved for real, which the interval and the test judge as
  any other shift.

Pure functions: samples and flags in, reasons out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from perflab.stats._common import FloatArray
from perflab.stats.quality import Flag

MIX_PVALUE = 0.05


def contaminated_flag(detail: str) -> Flag:
    """The flag a comparison attaches to a side whose run was contaminated."""
    return Flag(
        "contaminated",
        f"the run was contaminated ({detail}): other work ran on the "
        "benchmark's CPUs, so its numbers are not the code's",
        evidence={"run_flag": detail},
    )


def blockers(
    base: FloatArray,
    cand: FloatArray,
    base_flags: list[Flag] | tuple[Flag, ...],
    cand_flags: list[Flag] | tuple[Flag, ...],
) -> list[tuple[str, str]]:
    """(code, sentence) for every reason this row cannot be decided, in a stable order."""
    out: list[tuple[str, str]] = []
    if not base_flags and not cand_flags:  # every blocker is told by a flag
        return out
    for code in ("contaminated", "noisy_host"):
        for side, flags in (("baseline", base_flags), ("candidate", cand_flags)):
            found = next((f for f in flags if f.code == code), None)
            if found is not None:
                out.append((code, f"{side}: {found.message}"))
    mix = mode_mix(base, cand, base_flags, cand_flags)
    if mix is not None:
        out.append(("bimodal_mix", mix))
    return out


def mode_mix(base: FloatArray, cand: FloatArray, base_flags: Any, cand_flags: Any) -> str | None:
    """Why the two sides' modes mix differently, or None (no bimodal side, same mix, or a
    candidate that moved beyond both modes)."""
    for ref, other, flags, ref_name in (
        (base, cand, base_flags, "baseline"),
        (cand, base, cand_flags, "candidate"),
    ):
        flag = next((f for f in flags if f.code == "bimodal"), None)
        if flag is None:
            continue
        return _mix_text(np.sort(ref), np.sort(other), int(flag.evidence["low_count"]), ref_name)
    return None


def _mix_text(ref: FloatArray, other: FloatArray, k: int, ref_name: str) -> str | None:
    if not 0 < k < ref.size:
        return None
    low, high = float(ref[:k].mean()), float(ref[k:].mean())
    gap = high - low
    centre = float(np.median(other))
    if centre < low - gap / 2 or centre > high + gap / 2:
        return None  # the other side moved beyond both modes: a shift, not a mode mix
    cut = (float(ref[k - 1]) + float(ref[k])) / 2.0
    k_other = int(np.sum(other <= cut))
    least = max(3, math.ceil(0.1 * other.size))
    if min(k_other, other.size - k_other) < least:
        return None  # wholly in one mode: it may have moved by the gap; the test judges that
    table = [[k, ref.size - k], [k_other, other.size - k_other]]
    pvalue = fisher_exact(table)
    if pvalue >= MIX_PVALUE:
        return None
    other_name = "candidate" if ref_name == "baseline" else "baseline"
    return (
        f"two modes (around {low:.4g} and {high:.4g}) mix differently: {ref_name} "
        f"{k} low / {ref.size - k} high, {other_name} {k_other} low / "
        f"{other.size - k_other} high (Fisher p = {pvalue:.2g}); the ratio reflects "
        "which mode the processes landed in, not the code"
    )


def fisher_exact(table: list[list[int]]) -> float:
    """Two-sided p-value of Fisher's exact test of a 2 x 2 table, as scipy's fisher_exact
    gives it (the tables no more likely than this one, with its 1e-7 relative tolerance),
    in exact integer arithmetic and without importing scipy.stats."""
    (a, b), (c, d) = table
    row, col, n = a + b, a + c, a + b + c + d
    weights = {
        x: math.comb(col, x) * math.comb(n - col, row - x)
        for x in range(max(0, row + col - n), min(row, col) + 1)
    }
    seen = weights[a] * (10**7 + 1)  # w <= seen / 10**7, in integers (no float overflow)
    found = sum(w for w in weights.values() if w * 10**7 <= seen)
    return min(1.0, found / math.comb(n, row))
