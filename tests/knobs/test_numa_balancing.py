"""The numa_balancing knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys


class TestNumaBalancing:
    @pytest.mark.parametrize("case", params("numa_balancing"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("numa_balancing", case)

    @pytest.mark.parametrize("case", params("numa_balancing", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("numa_balancing", case)

    def test_cycle(self, fake: FakeSys, driver: Driver, ctx: HostContext) -> None:
        """1 -> 0 -> restored to 1."""
        full_cycle(driver, fake, "numa_balancing", {"enabled": False}, ctx)
