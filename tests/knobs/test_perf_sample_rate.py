"""The perf_sample_rate knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys


class TestPerfSampleRate:
    @pytest.mark.parametrize("case", params("perf_sample_rate"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("perf_sample_rate", case)

    @pytest.mark.parametrize("case", params("perf_sample_rate", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("perf_sample_rate", case)

    def test_cycle(self, fake: FakeSys, driver: Driver, ctx: HostContext) -> None:
        """100000 -> 1000 -> restored."""
        full_cycle(driver, fake, "perf_sample_rate", {"value": 1000}, ctx)
