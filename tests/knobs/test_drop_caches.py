"""The drop_caches knob: an action on every apply, never a change of state."""

from __future__ import annotations

from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.driver import Driver
from tests.knobs.fakesys import DROP_CACHES, FakeSys


class TestDropCaches:
    @pytest.mark.parametrize("case", params("drop_caches"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts in, the expected action / skipped reason out."""
        check_case("drop_caches", case)

    @pytest.mark.parametrize("case", params("drop_caches", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("drop_caches", case)

    def test_every_apply_drops_nothing_to_restore(
        self, fake: FakeSys, driver: Driver, ctx: HostContext
    ) -> None:
        """Each apply drops the caches once; the plan stays "action"; restore has nothing."""
        before = fake.snapshot()
        cycle = driver.cycle("drop_caches", {}, ctx, settle=fake.settle)
        assert (cycle.first.status, cycle.second.status) == ("action", "action")
        assert fake.actions == [(DROP_CACHES, "3"), (DROP_CACHES, "3")]
        assert cycle.applied["failed"] == cycle.again["failed"] == []
        assert cycle.restored["restored"] == []
        assert fake.snapshot() == before
