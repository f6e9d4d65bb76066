"""The prefix of the cgroups perflab creates is a plain name: [a-z0-9-] only.

It becomes a path component under /sys/fs/cgroup (``<prefix>-shield``), so ``../../..``
would point perflab's cgroup writes elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.inventory import validate_inventory
from perflab.prepare.host import RunnerHost
from perflab.transport.local import LocalTransport
from tests.cli.capped import run_capped

BAD = ["../../..", "a/b", "Perflab", "lab_x", "lab x", "", "x" * 65]


class TestRunnerHostPrefix:
    @pytest.mark.parametrize("value", BAD)
    def test_inventory_variable(self, value: str) -> None:
        """perflab_name_prefix (inventory or `runner add --var`) is checked where it is used."""
        host = RunnerHost("r1", LocalTransport(), {"perflab_name_prefix": value or " "})
        with pytest.raises(
            InputError,
            match=r"perflab_name_prefix: expected a name of "
            r"a-z, 0-9 and '-'",
        ) as caught:
            _ = host.prefix
        assert caught.value.exit_status == 3

    @pytest.mark.parametrize("value", [v for v in BAD if v])
    def test_environment(self, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """PERFLAB_PREFIX (the local runner) is checked the same way."""
        monkeypatch.setenv("PERFLAB_PREFIX", value)
        with pytest.raises(
            InputError,
            match=r"PERFLAB_PREFIX: expected a name of a-z, 0-9 "
            r"and '-'",
        ):
            _ = RunnerHost("local", LocalTransport()).prefix

    @pytest.mark.parametrize("value", ["perflab", "perflab-ci", "lab-2", "x" * 64])
    def test_good_names(self, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """Ordinary names pass, from either source."""
        monkeypatch.setenv("PERFLAB_PREFIX", value)
        assert RunnerHost("local", LocalTransport()).prefix == value
        assert RunnerHost("r1", LocalTransport(), {"perflab_name_prefix": value}).prefix == value


class TestValidate:
    def test_inventory_refuses_it(self, tmp_path: Path) -> None:
        """`validate` of an inventory names the variable where it is written."""
        path = tmp_path / "h.yml"
        path.write_text("all:\n  vars:\n    perflab_name_prefix: ../../..\n  hosts:\n    r1:\n")
        found = [str(e) for e in validate_inventory(path)]
        assert found == [
            f"{path}:3:5: perflab_name_prefix: expected a name of a-z, 0-9 and "
            "'-' (at most 64 characters), got \"../../..\""
        ]

    def test_prepare_refuses_it(self, tmp_path: Path) -> None:
        """`prepare local --check` with PERFLAB_PREFIX=../../.. is exit 3, nothing touched."""
        child = run_capped(
            "prepare",
            "local",
            "--check",
            home=tmp_path / "home",
            timeout=60,
            env={"PERFLAB_PREFIX": "../../..", "PERFLAB_STATE_DIR": str(tmp_path / "state")},
        )
        assert child.status == 3, child.err
        assert "PERFLAB_PREFIX: expected a name of a-z, 0-9 and '-'" in child.err
