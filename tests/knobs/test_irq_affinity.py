"""The irq_affinity knob: plans as data, the full cycle, and IRQs the kernel will not move."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys

READ_ONLY = "/sys/devices/system/cpu/online"  # a real file the kernel refuses to write


class TestIrqAffinity:
    @pytest.mark.parametrize("case", params("irq_affinity"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("irq_affinity", case)

    @pytest.mark.parametrize("case", params("irq_affinity", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("irq_affinity", case)

    def test_cycle(self, fake: FakeSys, driver: Driver, ctx: HostContext) -> None:
        """Every IRQ and the default mask go to CPU 0, then back byte for byte."""
        cycle = full_cycle(driver, fake, "irq_affinity", {}, ctx)
        assert len(cycle.first.changes) == 1 + 7  # default_smp_affinity + 7 IRQs

    def test_unmovable_irq_is_not_a_failure(
        self, fake: FakeSys, driver: Driver, ctx: HostContext
    ) -> None:
        """A write the kernel refuses is reported, the other IRQs still move, restore works."""
        if Path(READ_ONLY).read_text().strip() == "0":
            pytest.skip("needs a host with more than one CPU online")
        bad = "/proc/irq/7/smp_affinity_list"
        fake.link(bad, READ_ONLY)  # reads "0-1" (or so): planned to move, refused on write
        before = fake.snapshot()
        plan = driver.plan("irq_affinity", {}, ctx)
        assert bad in [c.target for c in plan.changes]
        applied = driver.apply(plan)
        assert "aborted" not in applied
        assert [f["target"] for f in applied["failed"]] == [bad]
        fake.settle()
        assert fake.read("/proc/irq/24/smp_affinity_list") == "0\n"
        restored = driver.restore()
        fake.settle()
        assert restored["failed"] == []
        assert fake.snapshot() == before
