"""The turbo knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.conftest import driver_for
from tests.knobs.driver import full_cycle
from tests.knobs.fakesys import build


class TestTurbo:
    @pytest.mark.parametrize("case", params("turbo"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("turbo", case)

    @pytest.mark.parametrize("case", params("turbo", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("turbo", case)

    @pytest.mark.parametrize(
        ("driver_name", "files"),
        [
            ("intel_pstate", ["intel_pstate/no_turbo"]),
            ("acpi-cpufreq", ["cpufreq/boost"]),
            ("amd-pstate", [f"cpufreq/policy{n}/boost" for n in range(4)] + ["cpufreq/boost"]),
        ],
    )
    def test_cycle(
        self, tmp_path: Path, state_dir: Path, ctx: HostContext, driver_name: str, files: list[str]
    ) -> None:
        """Every switch the driver has is set, then restored byte for byte."""
        fake = build(tmp_path, driver=driver_name)
        cycle = full_cycle(driver_for(fake, state_dir), fake, "turbo", {"enabled": False}, ctx)
        assert [c.target for c in cycle.first.changes] == [
            f"/sys/devices/system/cpu/{f}" for f in files
        ]

    def test_no_switch(self, tmp_path: Path, state_dir: Path, ctx: HostContext) -> None:
        """Through the real probe, a host without any switch is skipped."""
        fake = build(tmp_path, driver=None)
        plan = driver_for(fake, state_dir).plan("turbo", {}, ctx)
        assert plan.status == "skipped" and "no turbo/boost switch" in str(plan.reason)
