"""Runner variables that hold secrets: which they are, and what to write instead.

perflab never stores a secret value, and so never prints one. This module is
the one definition every path that takes runner variables uses (``runner add
--var``, ``runner import`` with its ``group_vars/`` and ``host_vars/``, the
store itself, and the migration that scrubbed databases written before).

A variable is a secret when

- its name ends in a word used for one: ``..._pass``, ``password``,
  ``passwd``, ``passphrase``, ``secret``, ``token``, or it names key material
  itself (``..._private_key``, ``..._secret_key``, ``..._api_key``). That
  covers every name Ansible reads a secret from (the ``password``,
  ``become_pass``, ``private_key`` and ``private_key_passphrase`` options of
  its connection and become plugins: ``ansible_password``,
  ``ansible_ssh_pass``, ``ansible_become_password``, ``ansible_sudo_pass``,
  ``ansible_ssh_private_key_passphrase`` ...; tests/test_secret_vars.py holds
  it to ansible-core's plugin documentation), perflab's own
  (``perflab_become_password`` ...) and the usual names of other tools;
- or its value is vault-encrypted (``!vault``, or text starting with
  ``$ANSIBLE_VAULT;``), whatever its name.

A name that only *contains* such a word is not a secret:
``ansible_become_exe``, ``ansible_sshpass_prompt``,
``ansible_ssh_password_mechanism``, ``ansible_ssh_private_key_file``, and
perflab's references ``perflab_*_env``, which hold the *name* of an
environment variable that perflab reads when the secret is needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# perflab's references: each holds the *name* of an environment variable (S105: these are
# variable names, not passwords)
SSH_PASSWORD_ENV = "perflab_ssh_password_env"  # noqa: S105
BECOME_PASSWORD_ENV = "perflab_become_password_env"  # noqa: S105
KEY_PASSPHRASE_ENV = "perflab_ssh_key_passphrase_env"  # noqa: S105

VAULT_MARK = "$ANSIBLE_VAULT;"
_LAST_WORDS = frozenset({"pass", "passwd", "password", "passphrase", "secret", "token"})
_ENDINGS = ("password", "passwd", "passphrase", "privatekey", "secretkey", "apikey")
_KEY_PAIRS = frozenset({("private", "key"), ("secret", "key"), ("api", "key")})
_SSH_PASSWORDS = frozenset(
    {
        "ansible_password",
        "ansible_ssh_pass",
        "ansible_ssh_password",
        "ansible_paramiko_pass",
        "ansible_paramiko_password",
        "perflab_ssh_password",
    }
)
#: Ansible's become methods: their passwords are what sudo asks perflab for
_BECOME_WORDS = frozenset(
    {
        "become",
        "sudo",
        "su",
        "runas",
        "doas",
        "pbrun",
        "pfexec",
        "dzdo",
        "ksu",
        "machinectl",
        "pmrun",
        "sesu",
    }
)
_ADVICE = {
    "ssh": f"put it in an environment variable and set {SSH_PASSWORD_ENV} to that "
    "variable's name (read when perflab connects)",
    "become": f"put it in an environment variable and set {BECOME_PASSWORD_ENV} to that "
    "variable's name (read when sudo asks), or type it at -K (perflab becomes "
    "another user with sudo only)",
    "passphrase": f"put it in an environment variable and set {KEY_PASSPHRASE_ENV} to "
    "that variable's name (read when the key file is opened)",
    "key": "write the key to a file only you can read (chmod 600) and set "
    "ansible_ssh_private_key_file to its path",
}


class Vaulted(str):
    """A value encrypted with ansible-vault (YAML's ``!vault`` tag): its ciphertext."""


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def is_secret_name(name: str) -> bool:
    """Does a variable of this name hold a secret (see the module's docstring)?"""
    words = _words(name)
    if not words:
        return False
    squeezed = "".join(words)
    return (
        words[-1] in _LAST_WORDS or squeezed.endswith(_ENDINGS) or tuple(words[-2:]) in _KEY_PAIRS
    )


def is_vaulted(value: object) -> bool:
    """Is ``value`` encrypted with ansible-vault?"""
    return isinstance(value, Vaulted) or (
        isinstance(value, str) and value.lstrip().startswith(VAULT_MARK)
    )


def is_secret(name: str, value: object) -> bool:
    """Must ``name: value`` stay out of the store (and out of every output)?"""
    return is_secret_name(name) or is_vaulted(value)


def _kind(name: str) -> str | None:
    words = _words(name)
    if not words or not is_secret_name(name):
        return None
    if words[-1] == "passphrase":
        return "passphrase"
    if tuple(words[-2:]) == ("private", "key"):
        return "key"
    if name.lower() in _SSH_PASSWORDS:
        return "ssh"
    if _BECOME_WORDS & set(words):
        return "become"
    return None


def advice(name: str, value: object = None) -> str:
    """One phrase saying how perflab takes this secret instead (or that it needs none)."""
    kind = _kind(name)
    vault = "perflab cannot decrypt ansible-vault values; " if is_vaulted(value) else ""
    if kind is None:
        return f"{vault}perflab does not use it, so leave it out"
    return vault + _ADVICE[kind]


def scrub(variables: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``variables`` without their secrets (at any depth), and the names of those dropped
    (``db.password``, ``items[0].token``). The input is not changed."""
    dropped: list[str] = []
    kept = _scrub_mapping(variables, "", dropped)
    return kept, dropped


def _scrub_mapping(data: Mapping[Any, Any], prefix: str, dropped: list[str]) -> dict[Any, Any]:
    kept: dict[Any, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if is_secret(str(key), value):
            dropped.append(path)
        else:
            kept[key] = _scrub_value(value, path, dropped)
    return kept


def _scrub_value(value: Any, path: str, dropped: list[str]) -> Any:
    if isinstance(value, Mapping):
        return _scrub_mapping(value, f"{path}.", dropped)
    if isinstance(value, list | tuple):
        items = []
        for index, item in enumerate(value):
            if is_vaulted(item):
                dropped.append(f"{path}[{index}]")
            else:
                items.append(_scrub_value(item, f"{path}[{index}]", dropped))
        return items
    return value
