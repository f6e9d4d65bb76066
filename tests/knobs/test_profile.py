"""Every knob of this package together, in the registry's ORDER, on one fake host."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from perflab.knobs import ORDER
from perflab.knobs.base import HostContext
from tests.knobs.conftest import driver_for
from tests.knobs.fakesys import DROP_CACHES, build, install_fake_systemctl

TASKS: dict[str, dict[str, Any]] = {
    "services": {"names": ["irqbalance", "cron"]},
    "governor": {"governor": "performance"},
    "min_frequency": {"cpus": "reserved"},
    "turbo": {"enabled": False},
    "smt": {"enabled": False},
    "irq_affinity": {},
    "workqueue": {},
    "aslr": {"value": 0},
    "perf_sample_rate": {"value": 1},
    "transparent_hugepages": {"enabled": "never", "defrag": "never"},
    "swappiness": {"value": 0},
    "numa_balancing": {"enabled": False},
    "sysctl": {"name": "kernel.sched_rt_runtime_us", "value": -1},
    "drop_caches": {},
}


class TestProfile:
    @pytest.mark.parametrize("driver_name", ["intel_pstate", "amd-pstate"])
    def test_prepare_verify_restore(
        self,
        tmp_path: Path,
        state_dir: Path,
        ctx: HostContext,
        monkeypatch: pytest.MonkeyPatch,
        driver_name: str,
    ) -> None:
        """One apply of every knob; then nothing left to do; one restore: byte for byte."""
        bin_dir = tmp_path / "bin"
        install_fake_systemctl(bin_dir, {"irqbalance": "active", "cron": "active"})
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        fake = build(tmp_path, driver=driver_name, systemd=True)
        driver = driver_for(fake, state_dir)
        before = fake.snapshot()
        names = [n for n in ORDER if n in TASKS]
        plans = [driver.plan(n, TASKS[n], ctx, task=n) for n in names]
        assert {p.knob: p.status for p in plans} == {
            n: "action" if n == "drop_caches" else "change" for n in names
        }
        applied = driver.apply(*plans)
        assert applied["failed"] == [] and "aborted" not in applied
        fake.settle()
        again = {n: driver.plan(n, TASKS[n], ctx).status for n in names}
        assert again == {n: "action" if n == "drop_caches" else "ok" for n in names}
        restored = driver.restore()
        fake.settle()
        assert restored["failed"] == [] and restored["gone"] == []
        assert fake.snapshot() == before
        assert fake.actions == [(DROP_CACHES, "3")]
        assert (bin_dir / "units" / "irqbalance").read_text() == "active"
