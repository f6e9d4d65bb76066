"""The swappiness knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys


class TestSwappiness:
    @pytest.mark.parametrize("case", params("swappiness"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("swappiness", case)

    @pytest.mark.parametrize("case", params("swappiness", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("swappiness", case)

    def test_cycle(self, fake: FakeSys, driver: Driver, ctx: HostContext) -> None:
        """60 -> 0 -> restored to 60."""
        full_cycle(driver, fake, "swappiness", {"value": 0}, ctx)
        assert fake.read("/proc/sys/vm/swappiness") == "60\n"

    def test_zero_to_zero(self, fake: FakeSys, driver: Driver, ctx: HostContext) -> None:
        """A host already at 0 asked for 0 is ok (0 is a value, not "unset")."""
        fake.write("/proc/sys/vm/swappiness", "0")
        assert driver.plan("swappiness", {"value": 0}, ctx).status == "ok"
