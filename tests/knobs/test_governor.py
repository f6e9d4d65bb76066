"""The governor knob: plans as data, then the full cycle on fake hosts of each driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.conftest import driver_for
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import CPU, build


class TestGovernor:
    @pytest.mark.parametrize("case", params("governor"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("governor", case)

    @pytest.mark.parametrize("case", params("governor", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("governor", case)

    @pytest.mark.parametrize("driver_name", ["intel_pstate", "acpi-cpufreq", "amd-pstate"])
    def test_cycle(
        self, tmp_path: Path, state_dir: Path, ctx: HostContext, driver_name: str
    ) -> None:
        """Every cpufreq driver: apply, nothing left to do, restore byte for byte."""
        fake = build(tmp_path, driver=driver_name)
        cycle = full_cycle(driver_for(fake, state_dir), fake, "governor", {}, ctx)
        assert len(cycle.first.changes) == 4
        assert [a["new"] for a in cycle.applied["applied"]] == ["performance"] * 4

    def test_shared_policy(self, tmp_path: Path, state_dir: Path, ctx: HostContext) -> None:
        """CPUs sharing a policy write the same file twice; restore still ends at the original."""
        fake = build(tmp_path, driver="acpi-cpufreq", shared_policy=True)
        full_cycle(driver_for(fake, state_dir), fake, "governor", {"governor": "performance"}, ctx)
        assert fake.read(f"{CPU}/cpufreq/policy0/scaling_governor") == "schedutil\n"

    def test_reserved_only(self, fake: Any, driver: Driver, ctx: HostContext) -> None:
        """cpus: reserved leaves the housekeeping CPU's governor as it was."""
        plan = driver.plan("governor", {"cpus": "reserved"}, ctx)
        driver.apply(plan)
        fake.settle()
        assert fake.read(f"{CPU}/cpu0/cpufreq/scaling_governor") == "powersave\n"
        assert fake.read(f"{CPU}/cpu1/cpufreq/scaling_governor") == "performance\n"
        driver.restore()

    def test_vm_without_cpufreq(self, tmp_path: Path, state_dir: Path, ctx: HostContext) -> None:
        """Through the real probe, a host without cpufreq is skipped with the reason."""
        fake = build(tmp_path, driver=None)
        plan = driver_for(fake, state_dir).plan("governor", {}, ctx)
        assert plan.status == "skipped"
        assert plan.reason is not None and plan.reason.startswith("no cpufreq on this host")
