"""The transparent_hugepages knob: plans as data, then the full cycle on a fake host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.conftest import driver_for
from tests.knobs.driver import Driver, full_cycle
from tests.knobs.fakesys import FakeSys, build


class TestTransparentHugepages:
    @pytest.mark.parametrize("case", params("transparent_hugepages"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected changes / ok / skipped reason out."""
        check_case("transparent_hugepages", case)

    @pytest.mark.parametrize("case", params("transparent_hugepages", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("transparent_hugepages", case)

    def test_cycle(self, fake: FakeSys, driver: Driver, ctx: HostContext) -> None:
        """The bracketed word is recorded, and restore writes it back (a valid value)."""
        args = {"enabled": "never", "defrag": "defer+madvise"}
        cycle = full_cycle(driver, fake, "transparent_hugepages", args, ctx)
        assert [a["old"] for a in cycle.applied["applied"]] == ["madvise", "madvise"]
        assert fake.read("/sys/kernel/mm/transparent_hugepage/enabled") == (
            "always [madvise] never\n"
        )

    def test_absent(self, tmp_path: Path, state_dir: Path, ctx: HostContext) -> None:
        """Through the real probe, a kernel without THP is skipped."""
        fake = build(tmp_path, thp=False)
        plan = driver_for(fake, state_dir).plan("transparent_hugepages", {"enabled": "never"}, ctx)
        assert plan.status == "skipped" and "no transparent huge pages" in str(plan.reason)
