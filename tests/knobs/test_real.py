"""Knobs on this real machine: the safe, restorable ones for real; the others plan only.

This machine is shared: every value a test changes is read first and put back
in ``finally`` (by the restore under test, and by the guard if that failed),
and the guard asserts the original bytes are back. IRQ and workqueue affinity,
SMT and cpufreq are only planned here (they would disturb other users, or the
machine has none); the fake tree covers their writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from perflab.knobs.base import selected_word as bracketed
from perflab.transport.local import LocalTransport
from tests.knobs.driver import Driver

THP_ENABLED = "/sys/kernel/mm/transparent_hugepage/enabled"


def _other(values: list[str]) -> Callable[[str], str]:
    """Pick the first of ``values`` that differs from the current one."""
    return lambda now: next(v for v in values if v != now)


#: knob -> (file, args for a value different from the current one)
REAL: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "swappiness": (
        "/proc/sys/vm/swappiness",
        lambda now: {"value": int(_other(["10", "20"])(now))},
    ),
    "aslr": (
        "/proc/sys/kernel/randomize_va_space",
        lambda now: {"value": int(_other(["1", "2"])(now))},
    ),
    "perf_sample_rate": (
        "/proc/sys/kernel/perf_event_max_sample_rate",
        lambda now: {"value": int(_other(["50000", "40000"])(now))},
    ),
    "numa_balancing": ("/proc/sys/kernel/numa_balancing", lambda now: {"enabled": now == "0"}),
    "sysctl": (
        "/proc/sys/vm/stat_interval",
        lambda now: {"name": "vm.stat_interval", "value": int(_other(["2", "3"])(now))},
    ),
    "transparent_hugepages": (
        THP_ENABLED,
        lambda now: {"enabled": _other(["never", "madvise"])(bracketed(now) or "")},
    ),
}


def _writable(path: str) -> bool:
    return os.geteuid() == 0 and Path(path).is_file() and os.access(path, os.W_OK)


@pytest.fixture
def guard() -> Iterator[Callable[[str], str]]:
    """Remember a real file's exact content; put it back and check it, whatever happens."""
    saved: dict[str, str] = {}

    def remember(path: str) -> str:
        saved[path] = Path(path).read_text()
        return saved[path]

    yield remember
    for path, text in saved.items():
        if Path(path).read_text() != text:
            Path(path).write_text(bracketed(text.strip()) or "")
        assert Path(path).read_text() == text, f"{path} was not restored"


@pytest.fixture
def real_ctx() -> HostContext:
    online = sorted(os.sched_getaffinity(0))
    return HostContext(online=online, housekeeping=online[:1], reserved=online[1:])


@pytest.fixture
def real(state_dir: Path) -> Driver:
    return Driver(LocalTransport(), state_file=state_dir / "perflab-state.json")


@pytest.mark.root
class TestRealMachine:
    @pytest.mark.parametrize("name", sorted(REAL))
    def test_cycle(
        self, name: str, real: Driver, real_ctx: HostContext, guard: Callable[[str], str]
    ) -> None:
        """Apply, nothing left to do, restore: the real file reads exactly as before."""
        path, make_args = REAL[name]
        if not _writable(path):
            pytest.skip(f"{path} is missing or not writable here")
        original = guard(path)
        args = make_args(original.strip())
        try:
            cycle = real.cycle(name, args, real_ctx)
        finally:
            real.restore()
        assert cycle.first.status == "change", cycle.first.reason
        assert cycle.applied["failed"] == [] and "aborted" not in cycle.applied
        assert cycle.second.status == "ok", [c.to_dict() for c in cycle.second.changes]
        assert cycle.again["applied"] == []
        assert cycle.restored["failed"] == []
        assert Path(path).read_text() == original

    @pytest.mark.parametrize(
        ("name", "args", "needs"),
        [
            ("governor", {}, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            ("min_frequency", {}, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq"),
            ("smt", {}, "/sys/devices/system/cpu/smt/control"),
            ("irq_affinity", {}, "/proc/irq/default_smp_affinity"),
            ("workqueue", {}, "/sys/devices/virtual/workqueue/cpumask"),
            ("services", {"names": ["irqbalance"]}, "/run/systemd/system"),
            ("drop_caches", {}, "/proc/sys/vm/drop_caches"),
        ],
    )
    def test_plan_only(
        self, name: str, args: dict[str, Any], needs: str, real: Driver, real_ctx: HostContext
    ) -> None:
        """Knobs not applied here still plan on the real host; skipped only when it lacks them."""
        plan = real.plan(name, args, real_ctx)
        assert plan.status in ("ok", "change", "skipped", "action"), plan.reason
        if not Path(needs).exists():
            assert plan.status == "skipped" and plan.reason
        elif name != "smt":  # smt/control may say notsupported (this VM)
            assert plan.status != "skipped", plan.reason

    def test_turbo_plan(self, real: Driver, real_ctx: HostContext) -> None:
        """Turbo is skipped exactly when the host has none of the three switches."""
        switches = [
            "/sys/devices/system/cpu/intel_pstate/no_turbo",
            "/sys/devices/system/cpu/cpufreq/boost",
        ]
        plan = real.plan("turbo", {}, real_ctx)
        has_any = any(Path(p).exists() for p in switches) or any(
            Path("/sys/devices/system/cpu/cpufreq").glob("policy*/boost")
        )
        assert (plan.status == "skipped") == (not has_any), plan.reason
