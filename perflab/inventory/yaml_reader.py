"""Ansible's YAML inventory: groups with ``hosts``, ``children`` and ``vars``.

::

    all:                      # the top level maps group names to groups
      vars: {ansible_user: lab}
      children:
        linux_x86:
          hosts:
            epyc-[01:04]:     # a host pattern; its value holds host variables
              ansible_host: 127.0.0.11
          vars: {perflab_platform: linux-x86_64}

Keys are processed in the order they are written, like Ansible does, so the
order of groups and hosts is Ansible's. ``hosts: web1`` (a single name) is
``hosts: {web1: }``. Where Ansible only warns and skips (a group that is not
a mapping, a key other than hosts/children/vars), perflab refuses the file.
"""

from __future__ import annotations

from typing import Any

import yaml

from perflab.errors import describe
from perflab.inventory.builder import InventoryBuilder
from perflab.inventory.patterns import PatternError, host_names
from perflab.inventory.problems import did_you_mean
from perflab.secret_vars import Vaulted
from perflab.spec.yamlbounds import BoundedLoader
from perflab.spec.yamlpos import PathKey, Positions, parse_yaml

SECTIONS = ("hosts", "children", "vars")


class InventoryLoader(BoundedLoader):
    """YAML's safe loader, plus Ansible's ``!vault`` tag: the ciphertext, marked as such
    (perflab cannot decrypt it; a secret is dropped when runners are registered)."""


def _vault(loader: yaml.SafeLoader, node: yaml.Node) -> Vaulted:
    return Vaulted(loader.construct_scalar(node))  # type: ignore[arg-type]


InventoryLoader.add_constructor("!vault", _vault)


def parse_inventory_yaml(text: str, file: str) -> tuple[Any, Positions]:
    """An inventory or vars file's YAML, with positions (``!vault`` values read too)."""
    return parse_yaml(text, file, loader_class=InventoryLoader)


def read_yaml_inventory(data: Any, pos: Positions, builder: InventoryBuilder) -> None:
    """Feed one parsed YAML inventory document into ``builder``."""
    if data is None:
        return
    if not isinstance(data, dict):
        builder.problems.error(
            f"a YAML inventory is a mapping of group names to groups, got {describe(data)}",
            pos.value(()),
        )
        return
    if data.get("plugin"):
        builder.problems.error(
            f"this is the configuration of the inventory plugin '{data['plugin']}', "
            "not an inventory; perflab reads static YAML and INI inventories only",
            pos.key(("plugin",)),
        )
        return
    reader = _Reader(builder, pos)
    for name, group in data.items():
        reader.group(name, group, (_part(name),))


def _part(key: Any) -> str | int:
    """The path element yamlpos uses for a mapping key."""
    return key if isinstance(key, int) else str(key)


class _Reader:
    def __init__(self, builder: InventoryBuilder, pos: Positions) -> None:
        self.builder = builder
        self.problems = builder.problems
        self.pos = pos

    def group(self, name: Any, data: Any, path: PathKey) -> str | None:
        """Add one group and everything under it; its name, or None if it is unusable."""
        if not isinstance(name, str) or not name:
            self.problems.error(
                f"a group name must be a non-empty string, got {describe(name)}", self.pos.key(path)
            )
            return None
        self.builder.add_group(name, self.pos.key(path))
        if data is not None and not isinstance(data, dict):
            self.problems.error(
                f"group '{name}' must be a mapping with hosts, children or "
                f"vars (or empty), got {describe(data)}",
                self.pos.value(path),
            )
            return name
        for key, value in (data or {}).items():
            self.section(name, key, value, (*path, _part(key)))
        return name

    def section(self, group: str, key: Any, value: Any, path: PathKey) -> None:
        if key not in SECTIONS:
            shown = f"'{key}'" if isinstance(key, str) else describe(key)
            self.problems.error(
                f"unknown key {shown} in group '{group}': a group has only "
                f"hosts, children and vars{did_you_mean(str(key), SECTIONS)}",
                self.pos.key(path),
            )
            return
        if isinstance(value, str):
            value = {value: None}
        if value is None:
            return
        if not isinstance(value, dict):
            hint = "write one name per line, each followed by a colon" if key != "vars" else None
            self.problems.error(
                f"'{key}' of group '{group}' must be a mapping, got {describe(value)}",
                self.pos.value(path),
                hint=hint,
            )
            return
        {"vars": self.vars, "children": self.children, "hosts": self.hosts}[key](group, value, path)

    def vars(self, group: str, variables: dict[Any, Any], path: PathKey) -> None:
        for key, value in variables.items():
            where = self.pos.key((*path, _part(key)))
            if isinstance(key, str):
                self.builder.set_group_var(group, key, value, where)
            else:
                self.problems.error(f"a variable name must be a string, got {describe(key)}", where)

    def children(self, group: str, children: dict[Any, Any], path: PathKey) -> None:
        for key, data in children.items():
            child_path = (*path, _part(key))
            child = self.group(key, data, child_path)
            if child is not None:
                self.builder.add_child(group, child, self.pos.key(child_path))

    def hosts(self, group: str, hosts: dict[Any, Any], path: PathKey) -> None:
        for pattern, variables in hosts.items():
            host_path = (*path, _part(pattern))
            where = self.pos.key(host_path)
            if not isinstance(pattern, str):
                self.problems.error(
                    f"a host pattern must be a string, got {describe(pattern)}",
                    where,
                    hint="put the name in quotes",
                )
                continue
            try:
                names, port = host_names(pattern)
            except PatternError as exc:
                self.problems.error(str(exc), where)
                continue
            variables = variables or {}
            if not isinstance(variables, dict):
                self.problems.error(
                    f"the variables of host '{pattern}' must be a mapping, "
                    f"got {describe(variables)}",
                    self.pos.value(host_path),
                )
                continue
            for name in names:
                self.builder.add_host(name, where, group, port)
                self.host_vars(name, variables, host_path)

    def host_vars(self, host: str, variables: dict[Any, Any], path: PathKey) -> None:
        for key, value in variables.items():
            where = self.pos.key((*path, _part(key)))
            if isinstance(key, str):
                self.builder.set_host_var(host, key, value, where)
            else:
                self.problems.error(f"a variable name must be a string, got {describe(key)}", where)
