"""The run-level ``contaminated`` flag from per-repetition evidence (pure)."""

from __future__ import annotations

from typing import Any

from perflab.report.repetitions import contention_line
from perflab.stats.contamination import REPETITION_SHARE, RUN_FRACTION, contamination_flag


def reps(*shares: float, steal: float = 0.0, nivcsw: int = 3) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"kind": "warmup", "other_share": 0.9}]
    rows += [
        {"kind": "run", "other_share": s, "steal_share": steal, "nivcsw": nivcsw} for s in shares
    ]
    return rows


class TestContaminationFlag:
    def test_a_neighbour_that_stays_is_flagged_with_the_numbers(self) -> None:
        """Others used about half of CPU 1 in every repetition: the message says how much,
        of which CPU, in how many repetitions; the evidence carries the same numbers."""
        flag = contamination_flag(reps(*[0.48] * 15, nivcsw=212), [1])
        assert flag is not None and flag["code"] == "contaminated"
        assert flag["message"].startswith(
            "other processes used 48% of CPU 1 during 15/15 repetitions"
        )
        assert "preempted 212 times" in flag["message"]
        assert flag["evidence"]["contaminated"] == 15 and flag["evidence"]["repetitions"] == 15
        assert flag["evidence"]["other_share"] == 0.48

    def test_a_quiet_run_is_not_flagged(self) -> None:
        """Shares below the threshold (a quiet shielded CPU reads 0-2%): no flag."""
        assert contamination_flag(reps(0.01, 0.02, 0.0, 0.09, 0.015), [1]) is None

    def test_one_burst_in_a_long_run_is_not_flagged_but_a_fifth_is(self) -> None:
        """The run is flagged when at least RUN_FRACTION of its repetitions are over the
        threshold; warmups never count."""
        n = 20
        below = int(RUN_FRACTION * n) - 1
        assert contamination_flag(reps(*[0.5] * below, *[0.0] * (n - below)), [1]) is None
        flag = contamination_flag(reps(*[0.5] * (below + 1), *[0.0] * (n - below - 1)), [1])
        assert flag is not None and f"during {below + 1}/{n} repetitions" in flag["message"]

    def test_steal_counts_and_is_named(self) -> None:
        """Time the hypervisor stole is contamination too, and the message says so."""
        flag = contamination_flag(reps(0.0, 0.0, 0.0, steal=0.3), [2, 3])
        assert flag is not None
        assert "of CPUs 2-3" in flag["message"] and "stole 30%" in flag["message"]

    def test_threshold_is_inclusive_and_no_evidence_means_no_flag(self) -> None:
        assert contamination_flag(reps(REPETITION_SHARE), [1]) is not None
        assert contamination_flag(reps(REPETITION_SHARE - 0.001), [1]) is None
        assert contamination_flag([{"kind": "run", "other_share": None}], [1]) is None
        assert contamination_flag([], [1]) is None


class TestContentionLine:
    def test_summarises_the_measured_repetitions(self) -> None:
        line = contention_line(reps(0.5, 0.6, 0.02, nivcsw=40))
        assert line is not None
        assert "used 50% of the benchmark's CPUs (median; max 60%)" in line
        assert "2/3 repetitions at or above 10%" in line and "preempted 40 times" in line

    def test_nothing_recorded_nothing_said(self) -> None:
        assert contention_line([{"kind": "run", "other_share": None}]) is None
