"""Flags for samples that cannot be fully trusted, and why.

Each flag carries a code (stable, for scripts), a severity, a message a
performance engineer can act on, and the numbers behind it. All checks are
vectorised over benchmarks (:func:`flag_rows`); :func:`quality_flags` is the
one-sample front door. Thresholds and their reasons:

* ``high_cv``: coefficient of variation above the job's ``cv_limit`` (default 5%).
* ``too_few_samples``: Mann-Whitney U cannot reach p <= alpha at this size.
* ``tail_too_tight``: all samples identical, or P95/P50 below the workload's
  ``expected_tail`` (a 10-node cluster with P95/P50 = 1.008 is not measuring
  individual requests).
* ``bimodal``: the best two-group split (1-D 2-means) has Ashman's D above the
  99.5th percentile of D for unimodal normal samples of that size
  (2.8 + 23 / n^0.8, fitted by simulation), both groups >= 10% and >= 3 samples.
* ``trend``: Mann-Kendall test over the repetition order with p < 0.01 and a
  Theil-Sen drift of at least ``trend_min`` (default 0.5%) from first to last.
* ``outliers``: points beyond Tukey's fences (mild 1.5 IQR, extreme 3 IQR).
* ``noisy_host``: the host failed its noise probe (passed in by the caller).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from perflab.stats._common import FloatArray, Samples, as_array, fmt_pct, jdict
from perflab.stats.significance import min_samples_for

Severity = Literal["warning", "info"]
DEFAULT_CV_LIMIT = 0.05
TREND_PVALUE = 0.01
BIMODAL_MIN_N = 10


@dataclass(frozen=True)
class Flag:
    """One reason to distrust a sample set."""

    code: str
    message: str
    severity: Severity = "warning"
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "evidence": jdict(self.evidence),
        }


def quality_flags(
    samples: Samples,
    *,
    cv_limit: float = DEFAULT_CV_LIMIT,
    expected_tail: float | None = None,
    alpha: float = 0.05,
    other_n: int | None = None,
    trend_min: float = 0.005,
    noise_probe_failure: str | None = None,
) -> list[Flag]:
    """Flags for one side's samples, in repetition order. Never raises on bad data."""
    values = as_array(samples)
    flags: list[Flag] = []
    if noise_probe_failure:
        flags.append(noisy_host_flag(noise_probe_failure))
    if values is None or values.size == 0 or not np.all(np.isfinite(values)):
        flags.append(
            Flag(
                "invalid_samples",
                "samples are missing, NaN or infinite: nothing about this metric can be trusted",
                evidence={"n": 0 if values is None else int(values.size)},
            )
        )
        return flags
    return (
        flags
        + flag_rows(
            values[None, :],
            cv_limit=cv_limit,
            expected_tail=expected_tail,
            alpha=alpha,
            other_n=other_n,
            trend_min=trend_min,
        )[0]
    )


def noisy_host_flag(detail: str) -> Flag:
    return Flag(
        "noisy_host",
        f"the host failed its noise probe ({detail}): "
        "numbers from it may reflect interference, not the code",
        evidence={"probe": detail},
    )


def flag_rows(
    rows: FloatArray,
    *,
    cv_limit: float = DEFAULT_CV_LIMIT,
    expected_tail: float | None = None,
    alpha: float = 0.05,
    other_n: int | None = None,
    trend_min: float = 0.005,
) -> list[list[Flag]]:
    """Flags for each row of an (m, n) matrix of finite samples in repetition order."""
    m, n = rows.shape
    out: list[list[Flag]] = [[] for _ in range(m)]
    ordered = np.sort(rows, axis=1)
    with np.errstate(all="ignore"):  # extreme magnitudes overflow quietly; flags stay sane
        _few(out, n, alpha, other_n)
        _cv(out, ordered, cv_limit)
        _tail(out, ordered, expected_tail)
        _bimodal(out, ordered)
        _trend(out, rows, trend_min)
        _outliers(out, rows, ordered)
    return out


def _few(out: list[list[Flag]], n: int, alpha: float, other_n: int | None) -> None:
    need = min_samples_for(alpha, other_n)
    if n >= need:
        return
    flag = Flag(
        "too_few_samples",
        f"{n} sample(s): Mann-Whitney U cannot reach p <= {alpha:g} with fewer than "
        f"{need} per side, so no change can be confirmed; add repetitions",
        evidence={"n": n, "needed": need, "alpha": alpha},
    )
    for flags in out:
        flags.append(flag)


def _cv(out: list[list[Flag]], ordered: FloatArray, cv_limit: float) -> None:
    if ordered.shape[1] < 2:
        return
    mean = ordered.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = ordered.std(axis=1, ddof=1) / np.abs(mean)
    for i in np.flatnonzero(cv > cv_limit):
        out[i].append(
            Flag(
                "high_cv",
                f"CV {cv[i]:.1%} is above the limit of {cv_limit:.1%}: repetitions "
                "disagree too much for a precise comparison; look for background load, "
                "frequency scaling or an unpinned benchmark, or add repetitions",
                evidence={"cv": float(cv[i]), "limit": cv_limit},
            )
        )


def _tail(out: list[list[Flag]], ordered: FloatArray, expected: float | None) -> None:
    n = ordered.shape[1]
    if n < 3:
        return
    p50, p95 = np.percentile(ordered, [50.0, 95.0], axis=1)
    same = ordered[:, 0] == ordered[:, -1]
    for i in np.flatnonzero(same):
        out[i].append(
            Flag(
                "tail_too_tight",
                f"all {n} samples are identical ({ordered[i, 0]:g}): the tool "
                "probably reports a rounded, cached or aggregated value, not a measurement",
                evidence={"n": n, "value": float(ordered[i, 0])},
            )
        )
    if expected is None or n < 10:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = p95 / p50
    for i in np.flatnonzero((ratio < expected) & ~same):
        out[i].append(
            Flag(
                "tail_too_tight",
                f"P95/P50 is {ratio[i]:.3f}, below the {expected:g} expected "
                "for this workload: the samples look like averages or a saturated measurement, "
                "not individual latencies",
                evidence={"p95_over_p50": float(ratio[i]), "expected": expected},
            )
        )


def bimodal_threshold(n: int) -> float:
    """Ashman's D above which a 2-means split is called bimodal (~0.5% false alarms)."""
    return 2.8 + 23.0 / math.pow(n, 0.8)


def _bimodal(out: list[list[Flag]], ordered: FloatArray) -> None:
    n = ordered.shape[1]
    kmin = max(3, int(np.ceil(0.1 * n)))
    if n < BIMODAL_MIN_N or n - kmin < kmin:
        return
    med = np.median(ordered, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(med != 0, ordered / med - 1.0, ordered)
    split = _two_means(x, kmin)
    for i in np.flatnonzero(split[0] > bimodal_threshold(n)):
        d, k, low, high = (float(v[i]) for v in split)
        out[i].append(
            Flag(
                "bimodal",
                f"two groups of values: {int(k)} around {_at(ordered[i], low)} and "
                f"{n - int(k)} around {_at(ordered[i], high)} ({fmt_pct(high - low)} apart): a "
                "state that changes between runs (code alignment, memory placement, CPU "
                "frequency, a cache) switches between two modes; find and pin it",
                evidence={"ashman_d": d, "low_count": int(k), "high_count": n - int(k)},
            )
        )


def _at(row: FloatArray, rel: float) -> str:
    centre = float(np.median(row))
    return f"{centre * (1.0 + rel):.4g}"


def _two_means(x: FloatArray, kmin: int) -> tuple[FloatArray, ...]:
    """Best split of sorted rows into two groups: (Ashman's D, left size, left mean, right mean)."""
    m, n = x.shape
    c1, c2 = np.cumsum(x, axis=1), np.cumsum(x * x, axis=1)
    ks = np.arange(kmin, n - kmin + 1)
    l1, l2 = c1[:, ks - 1], c2[:, ks - 1]
    r1, r2 = c1[:, -1:] - l1, c2[:, -1:] - l2
    ml, mr = l1 / ks, r1 / (n - ks)
    ssl, ssr = l2 - ks * ml * ml, r2 - (n - ks) * mr * mr
    best = np.argmin(ssl + ssr, axis=1)
    i = np.arange(m)
    var = ssl[i, best] / (ks[best] - 1) + ssr[i, best] / (n - ks[best] - 1)
    gap = np.abs(mr[i, best] - ml[i, best])
    d = np.sqrt(2.0) * gap / np.sqrt(np.maximum(var, 1e-300))
    return d, ks[best].astype(np.float64), ml[i, best], mr[i, best]


def mann_kendall(rows: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mann-Kendall trend test per row: (two-sided p-value, Theil-Sen slope per repetition).

    The slope is only computed where p < 0.01 (elsewhere 0): it is the costly part.
    """
    from perflab.stats.significance import normal_sf

    n = rows.shape[1]
    s = np.zeros(rows.shape[0])
    for lag in range(1, n):  # S = sum over i < j of sign(x[j] - x[i]), one lag at a time
        later, earlier = rows[:, lag:], rows[:, :-lag]
        s += (later > earlier).sum(axis=1) - (later < earlier).sum(axis=1)
    var = n * (n - 1) * (2 * n + 5) / 18.0
    z = (s - np.sign(s)) / np.sqrt(var)
    p = 2.0 * normal_sf(np.abs(z))
    slope = np.zeros(rows.shape[0])
    hit = p < TREND_PVALUE
    if hit.any():
        i, j = np.triu_indices(n, k=1)
        slope[hit] = np.median((rows[hit][:, j] - rows[hit][:, i]) / (j - i), axis=1)
    return p, slope


def _trend(out: list[list[Flag]], rows: FloatArray, trend_min: float) -> None:
    n = rows.shape[1]
    if n < 8:
        return
    p, slope = mann_kendall(rows)
    med = np.median(rows, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        drift = slope * (n - 1) / np.abs(med)
    for i in np.flatnonzero((p < TREND_PVALUE) & (np.abs(drift) >= trend_min)):
        out[i].append(
            Flag(
                "trend",
                f"values drift by {fmt_pct(float(drift[i]))} from the first to the last "
                f"repetition (Mann-Kendall p = {p[i]:.2g}): warm-up not finished, thermal "
                "drift or a growing cache/heap; add warm-up runs or interleave A/B",
                evidence={"drift": float(drift[i]), "pvalue": float(p[i])},
            )
        )


def _outliers(out: list[list[Flag]], rows: FloatArray, ordered: FloatArray) -> None:
    n = rows.shape[1]
    if n < 4:
        return
    q1, q3 = np.percentile(ordered, [25.0, 75.0], axis=1)
    iqr = (q3 - q1)[:, None]
    dist = np.maximum(q1[:, None] - rows, rows - q3[:, None])
    mild, extreme = dist > 1.5 * iqr, dist > 3.0 * iqr
    for i in np.flatnonzero(mild.any(axis=1) & (iqr[:, 0] > 0)):
        where = np.flatnonzero(mild[i])
        n_ext = int(extreme[i].sum())
        severity: Severity = "warning" if n_ext or where.size > 0.05 * n else "info"
        reps = ", ".join(str(int(k) + 1) for k in where[:6]) + (", ..." if where.size > 6 else "")
        out[i].append(
            Flag(
                "outliers",
                f"{where.size} outlier(s) beyond Tukey's fences ({where.size - n_ext} "
                f"mild, {n_ext} extreme) at repetition {reps}: interference from another process, "
                "interrupts, page faults or a preempted run",
                severity=severity,
                evidence={"mild": int(where.size) - n_ext, "extreme": n_ext, "n": n},
            )
        )
