"""Runners registered the way the lab already reaches them: SSH config aliases and jump
hosts, Ansible inventories whose variables win over the config (real sshd hosts).

Each test writes the SSH config it uses and names it (PERFLAB_SSH_CONFIG, -F), or writes
~/.ssh/config under a HOME of its own: never this machine's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.root


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class TestAlias:
    def test_runner_add_with_only_an_alias(
        self, cli, fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`runner add lab1 --accept-new-host-key`: the name is looked up in the SSH config
        (HostName, User, IdentityFile); the runner keeps the alias, so a later change of
        the config applies, as it would for ssh."""
        host = fleet.host("alias-a")
        config = write_config(
            tmp_path / "ssh_config",
            f"Host lab1\n  HostName {host.address}\n  User root\n  IdentityFile {host.key_file}\n",
        )
        monkeypatch.setenv("PERFLAB_SSH_CONFIG", str(config))
        added = cli("runner", "add", "lab1", "--accept-new-host-key")
        assert added.status == 0, added.err
        assert f"registered lab1 (root@{host.address})" in added.out
        shown = cli("runner", "show", "lab1", "--json").json()
        assert (shown["address"], shown["port"], shown["user"], shown["key_file"]) == (
            "lab1",
            None,
            None,
            None,
        )
        facts = cli("runner", "facts", "lab1", "--json")
        assert facts.status == 0, facts.err
        assert facts.json()["runners"][0]["ok"]

    def test_dash_f_names_the_config(self, cli, fleet, tmp_path: Path) -> None:
        """`perflab -F FILE` reads that file (as `ssh -F`); without it the alias means
        nothing and the runner is not registered."""
        host = fleet.host("alias-f")
        config = write_config(
            tmp_path / "lab_ssh_config",
            f"Host lab-f\n  HostName {host.address}\n  User root\n  IdentityFile {host.key_file}\n",
        )
        unknown = cli("runner", "add", "lab-f", "--accept-new-host-key")
        assert unknown.status == 1 and "cannot resolve host name 'lab-f'" in unknown.err
        added = cli("-F", str(config), "runner", "add", "lab-f", "--accept-new-host-key")
        assert added.status == 0, added.err
        assert cli("-F", str(config), "runner", "ping", "lab-f").status == 0
        missing = cli("-F", str(tmp_path / "nope"), "runner", "ping", "lab-f")
        assert missing.status == 3 and "nope does not exist" in missing.out  # per-runner table

    def test_bad_config_line_is_exit_3_at_file_and_line(self, cli, tmp_path: Path) -> None:
        """A line ssh would refuse: exit 3, one line naming the file, line and column."""
        config = write_config(tmp_path / "ssh_config", "Host lab1\n    Port twenty-two\n")
        result = cli("-F", str(config), "runner", "add", "lab1")
        assert result.status == 3
        assert (
            result.err.strip()
            .splitlines()[0]
            .endswith(f"{config}:2:5: Port must be a number from 1 to 65535, got 'twenty-two'")
        )


class TestExistingSetup:
    def test_home_ssh_config_and_inventory_unchanged(
        self, cli, fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An engineer's ~/.ssh/config (aliases, a jump host with its own key) and
        ~/.ssh/known_hosts, and an Ansible inventory of aliases, work as they are."""
        home = tmp_path / "engineer"
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.delenv("PERFLAB_SSH_CONFIG")
        jump = fleet.host("home-jump")
        inner = fleet.host("home-inner", behind="home-jump")
        plain = fleet.host("home-plain")
        write_config(
            home / ".ssh/config",
            f"""\
Host bastion
    HostName {jump.address}
Host lab-inner
    HostName {inner.address}
    ProxyJump bastion
Host lab-plain
    HostName {plain.address}
    Port 2
Host *
    User root
    IdentityFile {plain.key_file}
""",
        )
        (home / ".ssh/known_hosts").write_text(
            "".join(h.known_hosts_line() + "\n" for h in (jump, inner, plain))
        )
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "children": {
                            "lab": {
                                "hosts": {
                                    "lab-inner": None,
                                    "lab-plain": {
                                        "ansible_port": 22
                                    },  # the inventory wins over the config's Port 2
                                    "plain-again": {
                                        "ansible_host": "lab-plain"
                                    },  # the config's Port 2 applies
                                }
                            }
                        }
                    }
                }
            )
        )
        assert cli("runner", "import", str(inventory)).status == 0
        facts = cli("runner", "facts", "lab-inner", "lab-plain", "--json")
        assert facts.status == 0, facts.err
        assert all(row["ok"] for row in facts.json()["runners"])
        refused = cli("runner", "ping", "plain-again")
        assert refused.status == 1
        assert f"[{plain.address}]:2: connection refused" in refused.out  # per-runner table
