"""The built-in `local` runner is a runner in every runner command (no SSH, no root)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

INVENTORY = "all:\n  children:\n    gpu:\n      hosts:\n        lab1: {ansible_host: 127.0.0.11}\n"
PLATFORM = f"linux-{platform.machine()}"


@pytest.fixture
def registered(cli, tmp_path: Path) -> str:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    assert cli("runner", "import", str(inventory)).status == 0
    return "lab1"


class TestListAndShow:
    def test_json_lists_local_first(self, cli, registered: str) -> None:
        """`runner list --json` has `local` as the table does (it used to be missing),
        with this machine's facts read now and the same fields as a registered runner."""
        runners = cli("runner", "list", "--json").json()["runners"]
        assert [r["name"] for r in runners] == ["local", "lab1"]
        local, lab1 = runners
        assert set(local) == set(lab1)
        assert local["address"] is None and local["source"] == "built-in"
        assert local["state"] == "idle" and local["groups"] == []
        assert local["platform"] == PLATFORM
        assert local["facts"]["cpu"]["count"] == os.cpu_count()

    def test_show_local(self, cli) -> None:
        """`runner show local` shows it (it used to say 'unknown runner "local";
        registered: local')."""
        shown = cli("runner", "show", "local")
        assert shown.status == 0, shown.err
        assert shown.out.startswith("name              local\n")
        assert f"platform          {PLATFORM}" in shown.out
        doc = cli("runner", "show", "local", "--json").json()
        assert doc["name"] == "local" and doc["facts"]["kernel"] == platform.release()

    def test_filters_apply_to_local_too(self, cli, registered: str) -> None:
        """--platform, --state and --group select `local` by its own values."""

        def names(*args: str) -> list[str]:
            return [r["name"] for r in cli("runner", "list", "--json", *args).json()["runners"]]

        assert names("--platform", PLATFORM) == ["local"]
        assert names("--state", "idle") == ["local", "lab1"]
        assert names("--state", "quarantined") == []
        assert names("--group", "gpu") == ["lab1"]

    def test_table_lists_local(self, cli, registered: str) -> None:
        """The table names `local` as this machine."""
        out = cli("runner", "list").out
        assert "local" in out and "(this machine)" in out and PLATFORM in out


class TestCommands:
    def test_facts_and_ping(self, cli) -> None:
        """`runner facts local` and `runner ping local` work like for any runner."""
        facts = cli("runner", "facts", "local", "--json")
        assert facts.status == 0, facts.err
        [row] = facts.json()["runners"]
        assert row["runner"] == "local" and row["ok"]
        ping = cli("runner", "ping", "local", "--json")
        assert ping.status == 0 and ping.json()["runners"][0]["ok"]

    @pytest.mark.parametrize(
        "argv",
        [["remove", "local"], ["quarantine", "local", "--reason", "x"], ["release", "local"]],
    )
    def test_local_is_not_registered(self, cli, argv: list[str]) -> None:
        """What only a registered runner has (removal, a state) is refused for `local`
        with the reason, not as an unknown runner."""
        result = cli("runner", *argv)
        assert result.status == 3
        assert '"local" is the built-in runner (this machine)' in result.err
        assert "unknown runner" not in result.err

    def test_unknown_runner_lists_local_as_known(self, cli, registered: str) -> None:
        """The names offered for a typo include `local` without calling it registered."""
        result = cli("runner", "show", "lab2")
        assert result.status == 3
        assert 'unknown runner "lab2"; known runners: local, lab1' in result.err
