"""Give each host its variables with Ansible's precedence, and freeze the result.

From weakest to strongest (later layers override earlier ones key by key)::

    1. vars of group "all" written in the inventory file
    2. vars of the host's other groups written in the inventory file
    3. group_vars/all
    4. group_vars/<group> of the host's other groups
    5. the host's own vars in the inventory file (a ``:port`` in its pattern included)
    6. host_vars/<host>

Within 2 and 4 the groups are ordered by depth (the longest chain of
``children`` from ``all``), then ``ansible_group_priority``, then name: a
child group beats its parent, a higher priority beats a lower one at the same
depth, and at equal depth and priority the name later in alphabetical order
wins. Note that 3 beats 2: ``group_vars/all`` overrides a child group's vars
written in the inventory file, as in Ansible.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from perflab.errors import Location
from perflab.inventory.builder import InventoryBuilder
from perflab.inventory.model import Group, Host, Inventory, walk_hosts
from perflab.inventory.problems import Problems
from perflab.inventory.variables import check_variable
from perflab.inventory.vars_files import Vars, find_vars_files, load_vars, stray_files


def build_inventory(builder: InventoryBuilder, source: Path, base_dir: Path) -> Inventory:
    """The finished inventory; vars files are read from ``base_dir``."""
    problems = builder.problems
    group_files = _files(base_dir / "group_vars", builder.groups, problems)
    host_files = _files(base_dir / "host_vars", builder.hosts, problems)
    depth = builder.depths()
    groups = {
        name: Group(
            name,
            tuple(node.hosts),
            tuple(node.children),
            tuple(node.parents),
            node.vars | group_files[name][0],
            depth[name],
            node.priority,
        )
        for name, node in builder.groups.items()
    }
    _check(builder, group_files, host_files, problems)
    hosts = {}
    for name in walk_hosts(groups, "all"):
        ordered = sorted(
            builder.host_groups(name) - {"all"},
            key=lambda g: (groups[g].depth, groups[g].priority, g),
        )
        layers = [(builder.groups[g].vars, builder.groups[g].origins) for g in ["all", *ordered]]
        layers += [group_files[g] for g in ["all", *ordered]]
        node = builder.hosts[name]
        layers += [(node.vars, node.origins), host_files[name]]
        values, origins = _merge(layers)
        hosts[name] = Host(name, values, tuple(sorted(ordered)), origins, base_dir)
    notes = stray_files(base_dir / "group_vars", set(groups), "group") + stray_files(
        base_dir / "host_vars", set(hosts), "host"
    )
    for note in notes:
        problems.warn(note)
    return Inventory(source, hosts, groups, tuple(problems.warnings))


def _files(directory: Path, names: dict[str, Any], problems: Problems) -> dict[str, Vars]:
    """Each name's variables from ``directory`` (group_vars or host_vars)."""
    found: dict[str, Vars] = {}
    usable = directory.is_dir()
    if directory.exists() and not usable:
        problems.warn(f"{directory} is not a directory, so Ansible and perflab ignore it")
    for name in names:
        files = find_vars_files(directory, name) if usable and name[0] != os.sep else []
        found[name] = load_vars(files, problems) if files else ({}, {})
    return found


def _merge(layers: list[Vars]) -> Vars:
    values: dict[str, Any] = {}
    origins: dict[str, Location] = {}
    for layer_values, layer_origins in layers:
        values.update(layer_values)
        origins.update({k: layer_origins[k] for k in layer_values if k in layer_origins})
    return values, origins


def _check(
    builder: InventoryBuilder,
    group_files: dict[str, Vars],
    host_files: dict[str, Vars],
    problems: Problems,
) -> None:
    """Check every place a variable perflab reads is written, once per place."""
    places = [(n.vars, n.origins) for n in builder.groups.values()]
    places += [(n.vars, n.origins) for n in builder.hosts.values()]
    places += [*group_files.values(), *host_files.values()]
    for values, origins in places:
        for key, value in values.items():
            message = check_variable(key, value)
            if message is not None:
                problems.error(message, origins.get(key))
