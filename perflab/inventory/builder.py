"""The inventory graph while it is being read, with Ansible's rules for it.

The YAML and INI readers drive an :class:`InventoryBuilder` the way Ansible's
plugins drive its inventory data: add a group, add a host (to a group), add a
child group, set a variable. The order of these calls is what fixes the order
of ``children`` and ``hosts`` lists, exactly as in Ansible. ``reconcile`` then
applies the closing rules: every group without a parent becomes a child of
``all``; a host in no group but ``all`` goes to ``ungrouped``; a host in
``ungrouped`` and in a real group leaves ``ungrouped``.

Mistakes are recorded in :class:`Problems` and the offending edge or name is
skipped, so one pass finds every problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perflab.errors import Location
from perflab.inventory.problems import Problems
from perflab.limits import MAX_GROUP_DEPTH, MAX_LINK_CHECKS

PRIORITY_VAR = "ansible_group_priority"


@dataclass
class GroupNode:
    name: str
    where: Location
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Location] = field(default_factory=dict)
    priority: int = 1


@dataclass
class HostNode:
    name: str
    where: Location
    groups: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Location] = field(default_factory=dict)


class InventoryBuilder:
    """Groups and hosts in the order Ansible creates them."""

    def __init__(self, problems: Problems, origin: Location) -> None:
        self.problems = problems
        self.groups: dict[str, GroupNode] = {}
        self.hosts: dict[str, HostNode] = {}
        self.link_checks = 0  # steps spent looking for cycles, bounded by MAX_LINK_CHECKS
        self.over_budget = False
        for name in ("all", "ungrouped"):
            self.groups[name] = GroupNode(name, origin)
        self.add_child("all", "ungrouped", origin)

    def add_group(self, name: str, where: Location) -> None:
        if name not in self.groups:
            self.groups[name] = GroupNode(name, where)

    def add_host(
        self, name: str, where: Location, group: str | None = None, port: int | None = None
    ) -> None:
        """Create the host on first sight (only then does ``port`` count) and join ``group``."""
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = HostNode(name, where)
            if port:
                self.set_host_var(name, "ansible_port", port, where)
        if group is not None and name not in self.groups[group].hosts:
            self.groups[group].hosts.append(name)
            host.groups.append(group)

    def remove_host(self, name: str, group: str) -> None:
        self.groups[group].hosts.remove(name)
        self.hosts[name].groups.remove(group)

    def add_child(self, parent: str, child: str, where: Location) -> None:
        """Make ``child`` a child group of ``parent``, refusing any cycle."""
        node = self.groups[parent]
        if child in node.children or self._over_budget(where):
            return
        path = self._path(child, parent)
        if path is not None:
            cycle = " -> ".join([parent, *path])
            self.problems.error(
                f"cycle in children: {cycle} (a group cannot contain itself, "
                "directly or through its children)",
                where,
            )
            return
        node.children.append(child)
        self.groups[child].parents.append(parent)

    def _over_budget(self, where: Location) -> bool:
        """Checking links for cycles costs up to MAX_LINK_CHECKS steps in all; past it the
        inventory is refused (once), so a pathological file cannot take minutes."""
        if self.link_checks <= MAX_LINK_CHECKS:
            return False
        if not self.over_budget:
            self.over_budget = True
            self.problems.error(
                f"expected child links that take at most {MAX_LINK_CHECKS} "
                "steps to check for cycles, got more: the groups are linked "
                "in too many ways (the rest of the children are not read)",
                where,
            )
        return True

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A path of child links from ``start`` down to ``goal``, if there is one (depth
        first, children in order; iterative, so a long chain cannot exhaust recursion)."""
        if start == goal:
            return [start]
        seen = {start}
        stack = [(start, iter(self.groups[start].children))]
        while stack:
            for child in stack[-1][1]:
                self.link_checks += 1
                if child == goal:
                    return [name for name, _ in stack] + [child]
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(self.groups[child].children)))
                    break
            else:
                stack.pop()
        return None

    def set_group_var(self, group: str, key: str, value: Any, where: Location) -> None:
        node = self.groups[group]
        if key != PRIORITY_VAR:
            node.vars[key] = value
            node.origins[key] = where
            return
        try:
            node.priority = int(value)
        except (TypeError, ValueError):
            self.problems.error(
                f"{PRIORITY_VAR} of group '{group}' must be an integer, got {value!r}",
                where,
                field=key,
            )

    def set_host_var(self, host: str, key: str, value: Any, where: Location) -> None:
        node = self.hosts[host]
        node.vars[key] = value
        node.origins[key] = where

    def ancestors(self, group: str) -> set[str]:
        """Every group above ``group``."""
        found: set[str] = set()
        todo = list(self.groups[group].parents)
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.groups[name].parents)
        return found

    def host_groups(self, host: str) -> set[str]:
        """The host's groups with all their ancestors (``all`` included)."""
        direct = self.hosts[host].groups
        return set(direct).union(*(self.ancestors(g) for g in direct))

    def reconcile(self) -> None:
        """Ansible's closing rules for ``all`` and ``ungrouped``."""
        for name, node in list(self.groups.items()):
            if name != "all" and not node.parents:
                self.add_child("all", name, node.where)
        for name, host in self.hosts.items():
            groups = self.host_groups(name)
            if "ungrouped" in host.groups:
                if groups - {"all", "ungrouped"}:
                    self.remove_host(name, "ungrouped")
            elif not groups - {"all"}:
                self.add_host(name, host.where, "ungrouped")

    def check_names(self) -> None:
        """A name may be a host or a group, not both (Ansible warns, then mixes them up)."""
        for name in self.groups.keys() & self.hosts.keys():
            group, host = self.groups[name], self.hosts[name]
            self.problems.error(
                f"'{name}' is both a host and a group (the group is defined at {group.where}); "
                "Ansible warns, then mixes up their variables: rename one of them",
                host.where,
            )

    def depths(self) -> dict[str, int]:
        """Each group's depth: the longest chain of child links from ``all`` (iterative)."""
        depth: dict[str, int] = {}
        for name in self.groups:
            stack, open_ = [name], {name}
            while stack:
                top = stack[-1]
                pending = [p for p in self.groups[top].parents if p not in depth and p not in open_]
                if pending:
                    stack += pending
                    open_.update(pending)
                    continue
                stack.pop()
                depth[top] = max((depth.get(p, 0) + 1 for p in self.groups[top].parents), default=0)
        return depth

    def check_depth(self) -> None:
        """Groups nested deeper than MAX_GROUP_DEPTH are refused (real labs use a few)."""
        depth = self.depths()
        deepest = max(depth.values(), default=0)
        if deepest <= MAX_GROUP_DEPTH:
            return
        first = next(n for n, d in depth.items() if d == MAX_GROUP_DEPTH + 1)
        self.problems.error(
            f"expected groups nested at most {MAX_GROUP_DEPTH} levels below "
            f"all, got {deepest} ({first} is the first group too deep)",
            self.groups[first].where,
        )
