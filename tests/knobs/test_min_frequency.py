"""The min_frequency knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.conftest import driver_for
from tests.knobs.driver import full_cycle
from tests.knobs.fakesys import build


class TestMinFrequency:
    @pytest.mark.parametrize("case", params("min_frequency"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("min_frequency", case)

    @pytest.mark.parametrize("case", params("min_frequency", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("min_frequency", case)

    @pytest.mark.parametrize("driver_name", ["intel_pstate", "acpi-cpufreq", "amd-pstate"])
    def test_cycle(
        self, tmp_path: Path, state_dir: Path, ctx: HostContext, driver_name: str
    ) -> None:
        """min = max on every CPU, nothing left to do, restore byte for byte."""
        fake = build(tmp_path, driver=driver_name)
        cycle = full_cycle(driver_for(fake, state_dir), fake, "min_frequency", {}, ctx)
        assert {c.new for c in cycle.first.changes} == {
            fake.read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq").strip()
        }

    def test_no_cpufreq(self, tmp_path: Path, state_dir: Path, ctx: HostContext) -> None:
        """Through the real probe, a VM without cpufreq is skipped."""
        fake = build(tmp_path, driver=None)
        plan = driver_for(fake, state_dir).plan("min_frequency", {}, ctx)
        assert plan.status == "skipped" and "no cpufreq" in str(plan.reason)
