"""paused_gc, the collector off while a one-shot command builds its rows: afterwards the
collector has nothing young to walk, and what the block made is still collectable."""

from __future__ import annotations

import gc
import weakref

from perflab.cli.env import paused_gc


class Node:
    other: Node | None = None


def test_what_the_block_made_goes_to_the_oldest_generation() -> None:
    """Left young, the first allocation after the block started a pass over everything
    made in it (0.16 s after a 10,000-row compare's work was done); handed over, nothing
    young is left to walk."""
    with paused_gc():
        rows = [[i] for i in range(100_000)]
        assert not gc.isenabled()
    assert gc.isenabled()
    oldest = gc.get_objects(generation=2)
    assert any(obj is rows for obj in oldest)
    assert any(obj is rows[-1] for obj in oldest)


def test_cycles_made_in_the_block_are_still_collected() -> None:
    """Handed to the oldest generation, not frozen for good: a full collection frees them."""
    with paused_gc():
        first, second = Node(), Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        del first, second
    assert gone() is not None  # a cycle: reference counting alone cannot free it
    gc.collect()
    assert gone() is None


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
