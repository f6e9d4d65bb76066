"""The (run, process) labels a stored side's samples get (compare.sides.groups_of): the
fast paths (one run of numbered processes, no repetitions at all) give exactly the labels
of the definition, and tell the hierarchy whether the side is flat."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.compare.sides import groups_of
from perflab.stats.hierarchy import Labels, tree


def defined(reps: list[int | None], run: int, per_run: int | None) -> list[tuple[int, int]]:
    """The docstring's rule, one sample at a time."""
    return [
        (
            run + (max(rep - 1, 0) // per_run if per_run and rep is not None else 0),
            rep if rep is not None else -1 - i,
        )
        for i, rep in enumerate(reps)
    ]


CASES = [
    ([1, 2, 3, 4], None),  # one run of processes
    ([1, 1, 2, 2], None),  # two samples a process: not flat
    ([None, None, None], None),  # a result file's samples
    ([1, None, 2], None),  # mixed
    ([1, 2, 3, 4, 5, 6], 3),  # runs: "2 x 3"
    ([1, 2, 3], 3),  # one run of a runs: N job's size
    ([], None),
]


@pytest.mark.parametrize(("reps", "per_run"), CASES)
@pytest.mark.parametrize("run", [0, 2])
def test_labels_are_the_definition(reps: list[int | None], per_run: int | None, run: int) -> None:
    labels = groups_of({("b", "m"): reps}, run=run, per_run=per_run)[("b", "m")]
    assert list(labels) == defined(reps, run, per_run)
    if isinstance(labels, Labels):
        unlabelled = tree(np.ones(len(reps)), list(labels))  # the general rule decides
        assert labels.flat == (unlabelled.flat is not None)


def test_flat_labels_give_the_flat_tree() -> None:
    values = np.array([3.0, 1.0, 2.0])
    labels = groups_of({("b", "m"): [None, None, None]})[("b", "m")]
    assert isinstance(labels, Labels) and labels.flat
    found = tree(values, labels)
    assert found.flat is not None and found.flat.tolist() == [3.0, 1.0, 2.0]
    numbered = groups_of({("b", "m"): [1, 1, 2]})[("b", "m")]
    assert isinstance(numbered, Labels) and not numbered.flat
    assert tree(values, numbered).flat is None
