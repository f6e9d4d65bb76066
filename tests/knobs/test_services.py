"""The services knob: plans as data, and the cycle against a fake systemctl on PATH."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from perflab.knobs.base import HostContext
from tests.knobs.cases import check_case, check_invalid, params
from tests.knobs.conftest import driver_for
from tests.knobs.driver import full_cycle
from tests.knobs.fakesys import build, install_fake_systemctl


@pytest.fixture
def systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake systemctl first on PATH, with irqbalance running and cron stopped."""
    folder = tmp_path / "bin"
    install_fake_systemctl(folder, {"irqbalance": "active", "cron": "inactive"})
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    return folder


class TestServices:
    @pytest.mark.parametrize("case", params("services"))
    def test_plan(self, case: dict[str, Any]) -> None:
        """Facts (systemctl answers) in, the expected stops / ok / skipped reason out."""
        check_case("services", case)

    @pytest.mark.parametrize("case", params("services", "invalid_args"))
    def test_args_refused(self, case: dict[str, Any]) -> None:
        """Bad arguments are refused with a phrase saying what was expected."""
        check_invalid("services", case)

    def test_commands(self, ctx: HostContext) -> None:
        """One systemctl show per service, named by the knob, end of options before the name."""
        from perflab.knobs import get_knob

        assert get_knob("services").commands({"names": ["cron"]}, ctx) == {
            "services:cron": {
                "argv": ["systemctl", "show", "--property=LoadState,ActiveState", "--", "cron"]
            }
        }

    def test_cycle(
        self, tmp_path: Path, state_dir: Path, ctx: HostContext, systemctl: Path
    ) -> None:
        """The running service is stopped and started again; the stopped one is never touched."""
        fake = build(tmp_path, systemd=True)
        args = {"names": ["irqbalance", "cron", "snapd"]}
        cycle = full_cycle(driver_for(fake, state_dir), fake, "services", args, ctx)
        assert cycle.first.notes == ["no service snapd on this host"]
        assert (systemctl / "units" / "irqbalance").read_text() == "active"
        assert (systemctl / "units" / "cron").read_text() == "inactive"
        verbs = [
            line.split()[0]
            for line in (systemctl / "calls.log").read_text().splitlines()
            if not line.startswith("show")
        ]
        assert verbs == ["stop", "start"]

    def test_no_systemd(
        self, tmp_path: Path, state_dir: Path, ctx: HostContext, systemctl: Path
    ) -> None:
        """Without /run/systemd/system the knob is skipped (this machine's case too)."""
        fake = build(tmp_path, systemd=False)
        plan = driver_for(fake, state_dir).plan("services", {"names": ["irqbalance"]}, ctx)
        assert (plan.status, plan.reason) == (
            "skipped",
            "systemd is not running (PID 1 is not systemd)",
        )
