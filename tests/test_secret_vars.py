"""Which runner variables are secrets: one definition, held against Ansible's own plugins."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import yaml

from perflab.secret_vars import Vaulted, advice, is_secret, is_secret_name, scrub

#: every name Ansible (ansible-core and the usual become plugins) reads a secret from,
#: and perflab's own names for the same secrets
SECRET_NAMES = [
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_paramiko_pass",
    "ansible_paramiko_password",
    "ansible_winrm_pass",
    "ansible_winrm_password",
    "ansible_become_pass",
    "ansible_become_password",
    "ansible_sudo_pass",
    "ansible_sudo_password",
    "ansible_su_pass",
    "ansible_su_password",
    "ansible_runas_pass",
    "ansible_doas_pass",
    "ansible_pbrun_pass",
    "ansible_dzdo_pass",
    "ansible_ssh_private_key_passphrase",
    "ansible_private_key_passphrase",
    "ansible_private_key",
    "ansible_ssh_private_key",
    "perflab_ssh_password",
    "perflab_become_password",
    "perflab_ssh_key_passphrase",
    "vault_token",
    "api_token",
    "client_secret",
    "aws_secret_key",
    "db_password",
    "ANSIBLE_BECOME_PASSWORD",
    "smtp-passwd",
]

#: names that contain such a word without holding a secret: they must be kept
LOOK_ALIKES = [
    "ansible_become_exe",
    "ansible_become_flags",
    "ansible_become_user",
    "ansible_become_method",
    "ansible_become",
    "ansible_sudo_exe",
    "ansible_su_exe",
    "ansible_sshpass_prompt",
    "ansible_ssh_password_mechanism",
    "ansible_private_key_file",
    "ansible_ssh_private_key_file",
    "ansible_paramiko_private_key_file",
    "ansible_psrp_certificate_key_pem",
    "perflab_become_password_env",
    "perflab_ssh_password_env",
    "perflab_ssh_key_passphrase_env",
    "perflab_keepalive",
    "bypass_cache",
    "compass",
    "password_file",
    "max_tokens",
    "passenger_root",
]

#: the options of Ansible's connection and become plugins whose values are secrets
ANSIBLE_SECRET_OPTIONS = {
    "password",
    "remote_password",
    "become_pass",
    "private_key_passphrase",
    "private_key",
}


def ansible_plugin_variables() -> list[tuple[str, str]]:
    """(option, variable name) of every connection and become plugin of ansible-core."""
    pytest.importorskip("ansible")
    found = []
    for package in ("ansible.plugins.connection", "ansible.plugins.become"):
        base = importlib.import_module(package)
        for module in pkgutil.iter_modules(base.__path__):
            doc = getattr(
                importlib.import_module(f"{package}.{module.name}"), "DOCUMENTATION", None
            )
            options = (yaml.safe_load(doc) or {}).get("options") or {} if doc else {}
            for option, spec in options.items():
                found += [(option, v["name"]) for v in spec.get("vars") or []]
    return found


class TestSecretNames:
    @pytest.mark.parametrize("name", SECRET_NAMES)
    def test_every_name_used_for_a_secret(self, name: str) -> None:
        """Every name Ansible and perflab use for a password, passphrase or key is one."""
        assert is_secret_name(name)
        assert is_secret(name, "x")

    @pytest.mark.parametrize("name", LOOK_ALIKES)
    def test_look_alikes_are_kept(self, name: str) -> None:
        """A name that only contains such a word (become_exe, sshpass_prompt, a key
        *file*, perflab's references to environment variables) is not a secret."""
        assert not is_secret_name(name)
        assert not is_secret(name, "x")

    def test_ansible_core_plugins_agree(self) -> None:
        """Oracle: the installed ansible-core's plugin documentation. Each variable of a
        password, passphrase or key option is a secret; no variable of another option is."""
        variables = ansible_plugin_variables()
        assert len(variables) > 50
        wrong = [
            (option, name)
            for option, name in variables
            if not name.startswith("delegated_vars")
            and is_secret_name(name) != (option in ANSIBLE_SECRET_OPTIONS)
        ]
        assert wrong == []


class TestVault:
    def test_vault_values_are_secrets_whatever_the_name(self) -> None:
        """A vault-encrypted value (the !vault tag, or its text) is a secret by any name."""
        cipher = "$ANSIBLE_VAULT;1.1;AES256\n6231336539\n"
        assert is_secret("db_host", Vaulted(cipher))
        assert is_secret("db_host", cipher)
        assert is_secret("db_host", "  " + cipher)
        assert not is_secret("db_host", "db.example")


class TestScrub:
    def test_drops_secrets_at_any_depth_and_names_them(self) -> None:
        """Secrets inside mappings and lists go too; the input is left as it was."""
        variables = {
            "a": 1,
            "ansible_password": "x",
            "ansible_become_exe": "sudo",
            "db": {"password": "y", "host": "h"},
            "items": [{"token": "z"}, 2],
            "key": Vaulted("$ANSIBLE_VAULT;1.1;AES256\n00\n"),
        }
        kept, dropped = scrub(variables)
        assert kept == {"a": 1, "ansible_become_exe": "sudo", "db": {"host": "h"}, "items": [{}, 2]}
        assert dropped == ["ansible_password", "db.password", "items[0].token", "key"]
        assert variables["db"] == {"password": "y", "host": "h"}

    def test_nothing_to_drop(self) -> None:
        """Variables without a secret come back equal, nothing named."""
        assert scrub({"perflab_keepalive": 5}) == ({"perflab_keepalive": 5}, [])


class TestAdvice:
    @pytest.mark.parametrize(
        ("name", "reference"),
        [
            ("ansible_password", "perflab_ssh_password_env"),
            ("ansible_ssh_pass", "perflab_ssh_password_env"),
            ("perflab_ssh_password", "perflab_ssh_password_env"),
            ("ansible_become_password", "perflab_become_password_env"),
            ("ansible_sudo_pass", "perflab_become_password_env"),
            ("ansible_su_password", "perflab_become_password_env"),
            ("ansible_ssh_private_key_passphrase", "perflab_ssh_key_passphrase_env"),
            ("ansible_private_key_passphrase", "perflab_ssh_key_passphrase_env"),
            ("ansible_ssh_private_key", "ansible_ssh_private_key_file"),
        ],
    )
    def test_says_how_to_pass_it_instead(self, name: str, reference: str) -> None:
        """Each secret perflab can use points at the variable that names where to read it."""
        text = advice(name)
        assert reference in text and "\n" not in text

    def test_a_secret_perflab_does_not_use(self) -> None:
        """A secret perflab never reads: leave it out."""
        assert "does not use" in advice("db_password")
