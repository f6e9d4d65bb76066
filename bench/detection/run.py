"""Detection benchmark: perflab's verdict vs Mann-Whitney U vs a 5% mean threshold.

Synthetic benchmark runs with realistic noise and known shifts; every method
sees the same data. Prints, per CV, sample size and shift, the share of
comparisons each method calls a change (at shift 0: the false positive rate,
counting "regressed" and "improved"; at a shift: the detection rate, counting
only "regressed", i.e. the right direction).

Noise model (per side, i.e. per run of a benchmark), profile "issue" (the
noise the issue lists):
  * log-normal multiplicative noise with the given CV;
  * slow drift: a linear trend across the run's repetitions, end to end
    uniform in [-1%, +1%];
  * 2% outliers: a sample is slowed by a factor uniform in [1.10, 1.50];
  * some bimodal runs: 10% of runs put each sample, with probability 0.3, in a
    second mode 5% slower or 5% faster (each equally likely per run).
Profile "harsh" adds a run-to-run offset ~ N(0, 0.25%) and makes every
second mode slower (all contamination pushes the same way).
The candidate is slowed by the shift (time, lower is better).

    python3 bench/detection/run.py [--trials 2000] [--seed 1] [--profile issue|harsh]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from perflab.stats import CompareInput, compare_many

CVS = (0.01, 0.02, 0.03)
SIZES = (5, 10, 20)
SHIFTS = (0.0, 0.02, 0.05, 0.10)


PROFILES = {
    "issue": {"offset": 0.0, "faster_modes": True},
    "harsh": {"offset": 0.0025, "faster_modes": False},
}


def simulate(
    rng: np.random.Generator,
    trials: int,
    n: int,
    cv: float,
    shift: float,
    *,
    profile: str = "issue",
) -> tuple[np.ndarray, np.ndarray]:
    """(trials, n) baseline and candidate samples under the noise model above."""
    opts = PROFILES[profile]
    offset, faster = float(opts["offset"]), bool(opts["faster_modes"])
    return (
        _side(rng, trials, n, cv, 0.0, offset=offset, faster_modes=faster),
        _side(rng, trials, n, cv, shift, offset=offset, faster_modes=faster),
    )


def _side(
    rng: np.random.Generator,
    trials: int,
    n: int,
    cv: float,
    shift: float,
    *,
    offset: float,
    faster_modes: bool,
) -> np.ndarray:
    sigma = np.sqrt(np.log1p(cv * cv))
    x = 100.0 * (1.0 + shift) * rng.lognormal(-sigma * sigma / 2, sigma, (trials, n))
    drift = rng.uniform(-0.01, 0.01, (trials, 1)) * np.linspace(0.0, 1.0, n)[None, :]
    x *= 1.0 + drift + rng.normal(0.0, offset, (trials, 1))
    outlier = rng.random((trials, n)) < 0.02
    x *= np.where(outlier, rng.uniform(1.10, 1.50, (trials, n)), 1.0)
    bimodal = (rng.random((trials, 1)) < 0.10) & (rng.random((trials, n)) < 0.3)
    faster = faster_modes & (rng.random((trials, 1)) < 0.5)
    return np.asarray(x * np.where(bimodal, np.where(faster, 1 / 1.05, 1.05), 1.0))


def perflab_calls(
    base: np.ndarray, cand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(regressed, changed) per trial, and the verdict shares."""
    items = [
        CompareInput(base=b, cand=c, direction="lower", benchmark=str(i), metric="time")
        for i, (b, c) in enumerate(zip(base, cand, strict=True))
    ]
    report = compare_many(items, fdr=None, seed=0)
    verdicts = np.array([r.verdict for r in report.rows])
    shares = {
        v: float(np.mean(verdicts == v)) for v in ("regressed", "improved", "same", "unknown")
    }
    return verdicts == "regressed", np.isin(verdicts, ("regressed", "improved")), shares


def mwu_calls(base: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = sps.mannwhitneyu(base, cand, axis=1, alternative="two-sided").pvalue
    up = np.median(cand, axis=1) > np.median(base, axis=1)
    return (p < 0.05) & up, p < 0.05


def mean_calls(base: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    change = cand.mean(axis=1) / base.mean(axis=1) - 1.0
    return change > 0.05, np.abs(change) > 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="issue")
    parser.add_argument(
        "--target-trials",
        type=int,
        default=10000,
        help="trials for the target cell (n=20, CV 2%%), measured separately",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(
        f"profile {args.profile}, {args.trials} trials per cell, seed {args.seed}; share of "
        "'change' calls (shift 0: false positives, either direction; shift > 0: "
        "detections of the regression)"
    )
    print(
        f"{'CV':>4} {'n':>3} {'shift':>5} | {'perflab':>7} {'MWU.05':>7} {'mean5%':>7} |"
        f" perflab verdicts: {'regr':>5} {'impr':>5} {'same':>5} {'unkn':>5}"
    )
    for cv in CVS:
        for n in SIZES:
            for shift in SHIFTS:
                _cell(rng, args.trials, n, cv, shift, profile=args.profile)
    print(f"target cell again with {args.target_trials} trials (n=20, CV 2%):")
    fp = _cell(rng, args.target_trials, 20, 0.02, 0.0, profile=args.profile)
    det = _cell(rng, args.target_trials, 20, 0.02, 0.05, profile=args.profile)
    met = fp <= 0.01 and det >= 0.95
    se_fp = (fp * (1 - fp) / args.target_trials) ** 0.5
    se_det = (det * (1 - det) / args.target_trials) ** 0.5
    print(
        f"target: false positives {fp:.2%} ± {se_fp:.2%} (<= 1%), detection at 5% shift "
        f"{det:.1%} ± {se_det:.1%} (>= 95%): {'met' if met else 'NOT met'}"
    )
    print(f"elapsed {time.perf_counter() - started:.1f} s")


def _cell(
    rng: np.random.Generator, trials: int, n: int, cv: float, shift: float, *, profile: str
) -> float:
    base, cand = simulate(rng, trials, n, cv, shift, profile=profile)
    pick = 1 if shift == 0 else 0  # changed (either way) at 0, regressed otherwise
    p_reg, p_chg, shares = perflab_calls(base, cand)
    rates = [
        float(np.mean((p_reg, p_chg)[pick])),
        np.mean(mwu_calls(base, cand)[pick]),
        np.mean(mean_calls(base, cand)[pick]),
    ]
    print(
        f"{cv:>4.0%} {n:>3} {shift:>5.0%} | "
        + " ".join(f"{r:>7.1%}" for r in rates)
        + " | "
        + " " * 18
        + " ".join(f"{shares[v]:>5.1%}" for v in ("regressed", "improved", "same", "unknown"))
    )
    return rates[0]


if __name__ == "__main__":
    main()
