"""The aslr knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys


class TestAslr:
    @pytest.mark.parametrize("case", params("aslr"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("aslr", case)

    @pytest.mark.parametrize("case", params("aslr", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("aslr", case)

    @pytest.mark.parametrize("value", [0, 1])
    def test_cycle(self, fake: FakeSys, driver: Driver, ctx: HostContext, value: int) -> None:
        """2 -> value -> restored to 2 (0 is written, not mistaken for unset)."""
        cycle = full_cycle(driver, fake, "aslr", {"value": value}, ctx)
        assert cycle.applied["applied"][0]["new"] == str(value)
