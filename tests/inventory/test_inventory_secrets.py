"""Secrets in inventories: vault values are read (not refused), secrets are valid input
(perflab drops them when it registers runners), references are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.inventory import load_inventory, validate_inventory
from perflab.inventory.variables import check_variable
from perflab.secret_vars import Vaulted

DATA = Path(__file__).resolve().parents[1] / "data" / "inventory"


class TestVault:
    def test_vault_values_are_read_as_vaulted_text(self) -> None:
        """`!vault` in the inventory, group_vars and host_vars (nested too) is read as its
        ciphertext, marked as vault-encrypted."""
        inventory = load_inventory(DATA / "vault" / "hosts.yml")
        v1, v2 = inventory.hosts["v1"], inventory.hosts["v2"]
        assert isinstance(v1.vars["ansible_become_password"], Vaulted)
        assert v1.vars["ansible_become_password"].startswith("$ANSIBLE_VAULT;1.1;AES256\n")
        assert isinstance(v2.vars["ansible_ssh_pass"], Vaulted)
        assert isinstance(v2.vars["nested"]["token"], Vaulted)
        assert v2.vars["nested"]["user"] == "lab"

    def test_a_vaulted_variable_perflab_reads_is_an_error(self, tmp_path: Path) -> None:
        """perflab cannot decrypt: a vaulted ansible_user is refused with its place."""
        path = tmp_path / "hosts.yml"
        path.write_text(
            "all:\n  hosts:\n    h:\n      ansible_user: !vault |\n"
            "        $ANSIBLE_VAULT;1.1;AES256\n        6231\n"
        )
        [problem] = validate_inventory(path)
        assert "hosts.yml:4:" in str(problem) and "ansible_user" in str(problem)
        assert "vault" in str(problem) and "6231" not in str(problem)


class TestSecretsAreValidInput:
    def test_secret_variables_validate(self, tmp_path: Path) -> None:
        """Ansible's secret variables and perflab's own secret names are not errors (they are
        dropped, with a note, when runners are registered)."""
        path = tmp_path / "hosts.ini"
        path.write_text(
            "h ansible_password=x ansible_sudo_password=y "
            "perflab_become_password=z perflab_ssh_key_passphrase=w\n"
        )
        assert validate_inventory(path) == []

    @pytest.mark.parametrize(
        "name",
        [
            "perflab_become_password_env",
            "perflab_ssh_password_env",
            "perflab_ssh_key_passphrase_env",
        ],
    )
    def test_references_name_an_environment_variable(self, name: str) -> None:
        """A reference holds an environment variable's name, nothing else."""
        assert check_variable(name, "LAB_SUDO_1") is None
        for bad in ("not a name", "1ABC", "$LAB", "", 5):
            problem = check_variable(name, bad)
            assert problem is not None and "environment variable" in problem
