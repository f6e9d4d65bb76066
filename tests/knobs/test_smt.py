"""The smt knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.conftest import driver_for
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys, build


class TestSmt:
    @pytest.mark.parametrize("case", params("smt"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("smt", case)

    @pytest.mark.parametrize("case", params("smt", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("smt", case)

    def test_cycle(self, fake: FakeSys, driver: Driver, ctx: HostContext) -> None:
        """on -> off -> restored to on."""
        full_cycle(driver, fake, "smt", {"enabled": False}, ctx)
        assert fake.read("/sys/devices/system/cpu/smt/control") == "on\n"

    def test_notsupported(self, tmp_path: Path, state_dir: Path, ctx: HostContext) -> None:
        """Through the real probe, a CPU without SMT is skipped with the reason."""
        fake = build(tmp_path, smt="notsupported")
        plan = driver_for(fake, state_dir).plan("smt", {}, ctx)
        assert plan.status == "skipped" and "no SMT" in str(plan.reason)
