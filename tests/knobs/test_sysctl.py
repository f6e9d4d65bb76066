"""The sysctl knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys


class TestSysctl:
    @pytest.mark.parametrize("case", params("sysctl"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("sysctl", case)

    @pytest.mark.parametrize("case", params("sysctl", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("sysctl", case)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("kernel.sched_rt_runtime_us", -1),
            ("vm.dirty_ratio", 5),
            ("kernel.printk", "3 4 1 7"),
        ],
    )
    def test_cycle(
        self, fake: FakeSys, driver: Driver, ctx: HostContext, name: str, value: Any
    ) -> None:
        """Any sysctl: set, nothing left to do, restored byte for byte (tabs too)."""
        full_cycle(driver, fake, "sysctl", {"name": name, "value": value}, ctx)
