"""Knobs that say their reads do not depend on the host context really do not.

``reads_need_context = False`` lets the engine read a knob's files in the same
round trip as the host context (docs/profiles.md); that is only right when
``paths`` and ``commands`` give the same answer on every host.
"""

from __future__ import annotations

import pytest

from perflab.knobs import KNOBS, get_knob
from perflab.knobs.base import HostContext
from tests.knobs.test_profile import TASKS

SMALL = HostContext(
    online=[0, 1], housekeeping=[0], reserved=[1], cgroup_version="v1", prefix="perflab", host="a"
)
LARGE = HostContext(
    online=list(range(64)),
    housekeeping=[0, 32],
    reserved=list(range(1, 32)),
    is_root=False,
    vars={"perflab_isolated_cpus": "1-31"},
    prefix="lab-x",
    cgroup_version="v2",
    protected=frozenset({1, 2}),
    host="b",
)
CONTEXT_FREE = sorted(n for n in KNOBS if not get_knob(n).reads_need_context)


def test_the_sysctl_like_knobs_are_context_free() -> None:
    """The knobs a sysctl-only profile uses are read with the context (one round trip)."""
    assert {
        "aslr",
        "swappiness",
        "sysctl",
        "perf_sample_rate",
        "numa_balancing",
        "transparent_hugepages",
        "drop_caches",
    } <= set(CONTEXT_FREE)
    assert {"governor", "min_frequency", "cpuset_shield", "freeze"}.isdisjoint(CONTEXT_FREE)


@pytest.mark.parametrize("name", CONTEXT_FREE)
def test_same_reads_on_every_host(name: str) -> None:
    knob, args = get_knob(name), TASKS[name]
    assert knob.paths(args, SMALL) == knob.paths(args, LARGE)
    assert knob.commands(args, SMALL) == knob.commands(args, LARGE)
