"""A row whose size, not its noise, keeps a beyond-band change from a verdict is
unmeasured (`too_few_repetitions`), with the repetitions that could confirm it."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.stats import CompareInput, compare_many
from perflab.stats.power import min_pvalue, repetitions_needed


def _rows(
    n: int, factor: float, *, paired: bool = True, seed: int = 1, noise: float = 0.1
) -> list[CompareInput]:
    """Five metrics of one benchmark: the first moves by ``factor`` in every repetition,
    the other four are A/A with ``noise`` (log-scale spread)."""
    rng = np.random.default_rng(seed)
    out = []
    for k, metric in enumerate(("wall_time", "user_time", "sys_time", "max_rss", "ctx")):
        base = 100.0 * rng.lognormal(0.0, noise, n)
        cand = 100.0 * rng.lognormal(0.0, noise, n)
        if k == 0:
            cand = base * factor * rng.lognormal(0.0, 0.02, n)
        out.append(
            CompareInput(
                base=base, cand=cand, direction="lower", benchmark="b", metric=metric, paired=paired
            )
        )
    return out


class TestAtTheFloor:
    def test_six_pairs_cannot_confirm_sixty_times_across_five_rows(self) -> None:
        """Every pair 60x slower: p = 1/32, q = 5/32 > 0.05. Before, the row was a plain
        `unknown` with "add repetitions" and the run exited 0."""
        row = compare_many(_rows(6, 60.0)).rows[0]
        assert row.verdict == "unknown"
        assert row.unmeasured == ("too_few_repetitions",)
        assert row.band_pvalue == pytest.approx(1 / 32)
        assert row.reason.startswith("could not measure: every pair moved the same way")
        assert (
            "across the 5 rows tested; at least 8 pairs are needed to confirm a change"
            in row.reason
        )
        assert "raw ratio +5" in row.reason

    def test_eight_pairs_confirm_it(self) -> None:
        row = compare_many(_rows(8, 60.0)).rows[0]
        assert row.verdict == "regressed" and row.unmeasured == ()

    def test_alone_six_pairs_are_enough(self) -> None:
        row = compare_many(_rows(6, 60.0)[:1]).rows[0]
        assert row.verdict == "regressed"

    def test_independent_samples_that_do_not_overlap(self) -> None:
        """Mann-Whitney U of 4 and 4 samples: floor 2/70 = 0.029, q over 5 rows 0.14."""
        row = compare_many(_rows(4, 3.0, paired=False)).rows[0]
        assert row.unmeasured == ("too_few_repetitions",)
        assert "the sides do not overlap" in row.reason and "4 and 4 samples" in row.reason


class TestNotAtTheFloor:
    def test_disagreeing_pairs_stay_ordinary_unknown(self) -> None:
        """Pairs that disagree (one moved the other way) are noise, not size: no code."""
        items = _rows(6, 1.3)
        base = np.array(items[0].base)
        cand = base * np.array([1.3, 1.35, 1.28, 0.97, 1.31, 1.29])
        items[0] = CompareInput(
            base=base, cand=cand, direction="lower", benchmark="b", metric="wall_time", paired=True
        )
        row = compare_many(items).rows[0]
        assert row.verdict == "unknown" and row.unmeasured == ()

    def test_a_change_inside_the_band_is_not_a_size_problem(self) -> None:
        """Quiet A/A rows (0.1% spread): inside the band, `same`, with six pairs too."""
        rows = compare_many(_rows(6, 1.0, noise=0.001)).rows
        assert [r.verdict for r in rows] == ["unknown"] + ["same"] * 4
        assert all(r.unmeasured == () for r in rows)

    def test_noisy_a_a_pairs_at_the_floor_say_so(self) -> None:
        """An A/A row whose six pairs happen to agree (1 in 32) is not confirmed either: it
        is unmeasured for its size, never improved."""
        rows = compare_many(_rows(6, 1.0)).rows
        hit = [r for r in rows if r.unmeasured]
        assert [r.metric for r in hit] == ["user_time"]  # seed 1: all six pairs lower
        assert all(r.verdict == "unknown" for r in rows)


class TestFloors:
    @pytest.mark.parametrize(("n", "floor"), [(6, 1 / 32), (8, 1 / 128), (60, 0.0)])
    def test_signed_rank(self, n: int, floor: float) -> None:
        assert min_pvalue(True, n, n) == pytest.approx(floor)

    def test_rank_sum(self) -> None:
        assert min_pvalue(False, 4, 4) == pytest.approx(2 / 70)

    def test_needed(self) -> None:
        assert repetitions_needed(True, 0.01) == 8  # 2^-7 = 0.0078
        assert repetitions_needed(False, 0.01) == 5  # 2 / C(10, 5) = 0.0079; 4 gives 0.029
