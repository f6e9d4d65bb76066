"""A/B mode: baseline (A) and candidate (B) interleaved on one host in one job.

Running ``A B B A A B B A ...`` (or each pair in a random order) and comparing
pair by pair removes host drift between runs: a slow minute slows both
members of a pair. The estimate is the median of the paired log-ratios
``log(b[i] / a[i])`` (reported as a ratio), its CI a seeded bootstrap of that
median, and the second opinion the Wilcoxon signed-rank test. The verdict rule
is the same as for two independent samples.
"""

from __future__ import annotations

import random
from typing import Literal

from perflab.stats._common import Samples
from perflab.stats.bootstrap import DEFAULT_RESAMPLES
from perflab.stats.compare import CompareInput, Comparison, compare_many
from perflab.stats.quality import DEFAULT_CV_LIMIT

Arm = Literal["A", "B"]


def abba_order(n_pairs: int, *, randomise: bool = False, seed: int = 0) -> list[Arm]:
    """Run order for ``n_pairs`` A/B pairs: ABBA ABBA ..., or each pair's order at random.

    Pair i is positions 2i and 2i+1; the i-th A and the i-th B of the order
    form pair i, so samples collected per arm in run order line up as pairs.
    """
    if n_pairs < 0:
        raise ValueError(f"n_pairs must be >= 0, got {n_pairs}")
    rng = random.Random(seed)
    order: list[Arm] = []
    for i in range(n_pairs):
        flip = rng.random() < 0.5 if randomise else i % 2 == 1
        order.extend(("B", "A") if flip else ("A", "B"))
    return order


def compare_paired(
    a: Samples,
    b: Samples,
    *,
    direction: str = "lower",
    noise_band: float = 0.01,
    confidence: float = 0.95,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    unit: str | None = None,
    cv_limit: float = DEFAULT_CV_LIMIT,
    expected_tail: float | None = None,
    benchmark: str = "",
    metric: str = "",
) -> Comparison:
    """Compare A/B pairs (a[i] with b[i]); mismatched lengths are ``not_comparable``."""
    item = CompareInput(
        base=a,
        cand=b,
        direction=direction,
        benchmark=benchmark,
        metric=metric,
        unit=unit,
        paired=True,
    )
    return compare_many(
        [item],
        noise_band=noise_band,
        confidence=confidence,
        fdr=None,
        seed=seed,
        resamples=resamples,
        cv_limit=cv_limit,
        expected_tail=expected_tail,
    ).rows[0]
