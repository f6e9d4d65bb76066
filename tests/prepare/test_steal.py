"""The shield tests' allowance for the host's steal (tests/prepare/steal.py) lets through
only a flag that steal alone raised."""

from __future__ import annotations

from perflab.stats.contamination import contamination_flag
from tests.prepare.steal import beyond_steal, steal_only


def _reps(other: float, steal: float, hit: int, total: int = 8) -> list[dict]:
    return [
        {
            "kind": "run",
            "other_share": other if i < hit else 0.0,
            "steal_share": steal if i < hit else 0.0,
        }
        for i in range(total)
    ]


def test_steal_alone_is_allowed() -> None:
    flag = contamination_flag(_reps(0.002, 0.15, hit=2), [1])
    assert flag is not None and steal_only(flag) and beyond_steal([flag]) == []


def test_others_are_not() -> None:
    """Others over the threshold in any repetition, with or without steal: not allowed."""
    for other, steal in ((0.4, 0.0), (0.4, 0.2), (0.12, 0.0)):
        flag = contamination_flag(_reps(other, steal, hit=3), [1])
        assert flag is not None and not steal_only(flag), (other, steal)
    mixed = _reps(0.0, 0.2, hit=2) + _reps(0.3, 0.0, hit=1, total=1)
    flag = contamination_flag(mixed, [1])
    assert flag is not None and not steal_only(flag)
    other_flag = {"code": "noisy_host", "evidence": {}}
    assert beyond_steal([other_flag]) == [other_flag]
