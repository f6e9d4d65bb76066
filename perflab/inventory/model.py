"""What an inventory says, once read: hosts with merged variables, and groups.

A :class:`Host`'s ``vars`` are what Ansible would give that host (see
:mod:`perflab.inventory.merge` for the precedence); ``origins`` says where
each winning value was written, for messages. Groups keep Ansible's order of
``hosts`` and ``children``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab.errors import InputError, Location
from perflab.inventory.problems import did_you_mean
from perflab.inventory.variables import PREFIX, normalized, port_number


def _last_set(variables: dict[str, Any], *names: str) -> Any:
    """Ansible's rule for aliases: the last name of the list that is set (not null) wins."""
    value = None
    for name in names:
        if variables.get(name) is not None:
            value = variables[name]
    return value


@dataclass(frozen=True)
class Host:
    """One host (a runner, for perflab) as Ansible sees it."""

    name: str
    vars: dict[str, Any] = field(hash=False)
    groups: tuple[str, ...]  # like Ansible's group_names: transitive, sorted, without "all"
    origins: dict[str, Location] = field(default_factory=dict, compare=False)
    base_dir: Path = field(default=Path(), compare=False)

    @property
    def address(self) -> str:
        """``ansible_host`` (or ``ansible_ssh_host``), else the host's name."""
        value = _last_set(self.vars, "ansible_host", "ansible_ssh_host")
        return self.name if value is None else str(value)

    @property
    def port(self) -> int:
        """``ansible_port`` (or ``ansible_ssh_port``), else 22."""
        value = _last_set(self.vars, "ansible_port", "ansible_ssh_port")
        return 22 if value is None else port_number(value)

    @property
    def given_port(self) -> int | None:
        """``ansible_port`` (or ``ansible_ssh_port``), None when neither is set (then the SSH
        config's ``Port`` applies, else 22)."""
        value = _last_set(self.vars, "ansible_port", "ansible_ssh_port")
        return None if value is None else port_number(value)

    @property
    def user(self) -> str | None:
        """``ansible_user`` (or ``ansible_ssh_user``), else None (the SSH default)."""
        value = _last_set(self.vars, "ansible_user", "ansible_ssh_user")
        return None if value is None else str(value)

    @property
    def key_file(self) -> Path | None:
        """The private key file, ``~`` expanded, relative paths taken from the inventory."""
        value = _last_set(self.vars, "ansible_private_key_file", "ansible_ssh_private_key_file")
        if value is None:
            return None
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def perflab_vars(self) -> dict[str, Any]:
        """The ``perflab_*`` variables without their prefix: ``{"platform": ...}``.

        Values come in one shape per kind whatever the inventory format made of
        them: CPU lists as text like ``"2-5,8"`` (INI turns ``0,16`` into a list),
        labels as a list, booleans as bool.
        """
        return {
            k[len(PREFIX) :]: normalized(k, v) for k, v in self.vars.items() if k.startswith(PREFIX)
        }


@dataclass(frozen=True)
class Group:
    """One group: its own hosts and child groups, in Ansible's order."""

    name: str
    hosts: tuple[str, ...]
    children: tuple[str, ...]
    parents: tuple[str, ...]
    vars: dict[str, Any] = field(hash=False)  # its own: inventory file, then group_vars/
    depth: int  # longest chain of children from "all"; deeper groups win
    priority: int = 1  # ansible_group_priority; breaks ties between equally deep groups


@dataclass(frozen=True)
class Inventory:
    """A whole inventory: hosts in Ansible's order, groups in definition order."""

    source: Path
    hosts: dict[str, Host] = field(hash=False)
    groups: dict[str, Group] = field(hash=False)
    warnings: tuple[str, ...] = ()

    def group_hosts(self, name: str) -> list[str]:
        """Hosts of a group and of all groups below it, in Ansible's order."""
        if name not in self.groups:
            raise InputError(
                f"no group '{name}' in the inventory{did_you_mean(name, self.groups)}",
                location=Location(str(self.source)),
            )
        return walk_hosts(self.groups, name)

    def to_ansible_list(self) -> dict[str, Any]:
        """The document ``ansible-inventory --list`` prints for this inventory."""
        from perflab.inventory.ansible_list import ansible_list

        return ansible_list(self)


def walk_hosts(groups: dict[str, Group], name: str) -> list[str]:
    """Ansible's host order under a group: the group, its children, then level by level.

    Below the children, Ansible walks each level as a Python set of groups, so
    when several groups of one level have children its order can change from
    run to run; perflab takes the groups of each level in the order they were
    reached, which is one of Ansible's orders and always the same.
    """
    ordered = [name, *groups[name].children]
    seen = set(ordered)
    level = list(groups[name].children)
    while level:
        below = [c for g in level for c in groups[g].children if c not in seen]
        below = list(dict.fromkeys(below))
        ordered.extend(below)
        seen.update(below)
        level = below
    return list(dict.fromkeys(h for g in ordered for h in groups[g].hosts))
