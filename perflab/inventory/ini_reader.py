"""Ansible's INI inventory: ``[group]``, ``[group:children]``, ``[group:vars]``.

Lines before the first section are hosts of ``ungrouped``. A host line is a
host pattern followed by ``key=value`` pairs (split like a shell line, ``#``
starts a comment); a ``:vars`` line is one ``key=value`` (the value is the rest
of the line); a ``:children`` line is one group name. Lines starting with
``#`` or ``;`` are comments. See :mod:`perflab.inventory.ini_values` for typing.

A group may be listed as a child before its own section, but it must have a
``[name]`` or ``[name:children]`` section somewhere; ``[name:vars]`` alone
does not define a group. Children are linked when their section is read,
which is why Ansible's ``children`` order can differ from the listing order.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from perflab.errors import Location
from perflab.inventory.builder import InventoryBuilder
from perflab.inventory.ini_values import ini_value
from perflab.inventory.patterns import PatternError, host_names
from perflab.inventory.problems import did_you_mean

_SECTION = re.compile(r"\[(?P<name>[^:\]\s]+)(?::(?P<kind>\w+))?\]\s*(?:#.*)?")
_GROUP_NAME = re.compile(r"(?P<name>[^:\]\s]+)\s*(?:#.*)?")
KINDS = ("hosts", "children", "vars")


@dataclass
class _Pending:
    """A group named before it is defined: by ``[x:vars]`` or as someone's child."""

    kind: str
    where: Location
    parents: list[tuple[str, Location]] = field(default_factory=list)


class _IniReader:
    def __init__(self, builder: InventoryBuilder, file: str) -> None:
        self.builder = builder
        self.problems = builder.problems
        self.file = file
        self.group = "ungrouped"
        self.kind = "hosts"
        self.pending: dict[str, _Pending] = {}

    def line(self, number: int, raw: str) -> None:
        text = raw.strip()
        if not text or text[0] in "#;":
            return
        where = Location(self.file, number, len(raw) - len(raw.lstrip()) + 1)
        section = _SECTION.fullmatch(text)
        if section:
            self.section(section["name"], section["kind"] or "hosts", where)
        elif text.startswith("[") and text.endswith("]"):
            self.problems.error(
                f"invalid section header {text}: write [group], "
                "[group:children] or [group:vars], without spaces",
                where,
            )
            self.kind = "skip"
        elif self.kind == "hosts":
            self.host_line(text, raw, where)
        elif self.kind == "vars":
            self.vars_line(text, where)
        elif self.kind == "children":
            self.child_line(text, where)

    def section(self, name: str, kind: str, where: Location) -> None:
        if kind not in KINDS:
            self.problems.error(
                f"section [{name}:{kind}] has an unknown type '{kind}': use "
                f"[{name}], [{name}:children] or [{name}:vars]"
                f"{did_you_mean(kind, KINDS)}",
                where,
            )
            self.kind = "skip"
            return
        self.group, self.kind = name, kind
        if name not in self.builder.groups:
            if kind == "vars" and name not in self.pending:
                self.pending[name] = _Pending("vars", where)
            self.builder.add_group(name, where)
        pending = self.pending.get(name)
        if pending is not None and kind != "vars":
            for parent, line in pending.parents:
                self.builder.add_child(parent, name, line)
            del self.pending[name]

    def host_line(self, text: str, raw: str, where: Location) -> None:
        try:
            tokens = shlex.split(text, comments=True)
        except ValueError as exc:
            self.problems.error(f"cannot read this host line: {exc}", where)
            return
        if not tokens:
            return
        names, port = self.pattern(tokens[0], where)
        variables = self.assignments(tokens[1:], raw, where)
        for name in names:
            self.builder.add_host(name, where, self.group, port)
            for key, (value, at) in variables.items():
                self.builder.set_host_var(name, key, value, at)

    def pattern(self, pattern: str, where: Location) -> tuple[list[str], int | None]:
        try:
            names, port = host_names(pattern)
        except PatternError as exc:
            self.problems.error(str(exc), where)
            return [], None
        if pattern.strip().endswith(":") and port is None:
            self.problems.error(
                f"host pattern '{pattern}' ends in ':' (a ':' is followed by a port number)", where
            )
            return [], None
        if pattern.strip() == "---":
            self.problems.error("a '---' line is YAML: name the file .yml or .yaml", where)
            return [], None
        return names, port

    def assignments(
        self, tokens: list[str], raw: str, where: Location
    ) -> dict[str, tuple[object, Location]]:
        found: dict[str, tuple[object, Location]] = {}
        for token in tokens:
            key, equals, value = token.partition("=")
            column = raw.find(key + equals) + 1 if key else 0
            at = Location(self.file, where.line, column or where.column)
            if not equals:
                self.problems.error(
                    f"expected key=value after the host name, got '{token}'",
                    at,
                    hint="one host per line; variables are written key=value",
                )
            else:
                found[key] = (ini_value(value), at)
        return found

    def vars_line(self, text: str, where: Location) -> None:
        key, equals, value = text.partition("=")
        if not equals or not key.strip():
            self.problems.error(f"expected key=value in [{self.group}:vars], got '{text}'", where)
            return
        self.builder.set_group_var(self.group, key.strip(), ini_value(value.strip()), where)

    def child_line(self, text: str, where: Location) -> None:
        match = _GROUP_NAME.fullmatch(text)
        if not match:
            self.problems.error(
                f"expected one group name per line in [{self.group}:children], got '{text}'", where
            )
            return
        child = match["name"]
        if child in self.builder.groups:
            self.builder.add_child(self.group, child, where)
            return
        pending = self.pending.setdefault(child, _Pending("children", where))
        pending.parents.append((self.group, where))

    def finish(self) -> None:
        """Report every group that was named but never defined."""
        for name, pending in self.pending.items():
            if pending.kind == "vars":
                self.problems.error(
                    f"section [{name}:vars] is for a group '{name}' that is "
                    f"never defined (no [{name}] or [{name}:children] "
                    "section)",
                    pending.where,
                )
                continue
            for parent, where in pending.parents:
                self.problems.error(self.undefined_child(parent, name), where)

    def undefined_child(self, parent: str, name: str) -> str:
        if name in self.builder.groups:
            return (
                f"[{parent}:children] lists '{name}', which has only a [{name}:vars] "
                f"section: a group is defined by [{name}] or [{name}:children]"
            )
        if name in self.builder.hosts:
            return (
                f"[{parent}:children] lists '{name}', which is a host, not a group: "
                f"list hosts under [{parent}]"
            )
        return (
            f"[{parent}:children] lists '{name}', which is not defined as a group "
            f"(no [{name}] or [{name}:children] section)"
            f"{did_you_mean(name, self.builder.groups)}"
        )


def read_ini_inventory(text: str, file: str, builder: InventoryBuilder) -> None:
    """Feed one INI inventory into ``builder``."""
    reader = _IniReader(builder, file)
    for number, raw in enumerate(text.splitlines(), start=1):
        reader.line(number, raw)
    reader.finish()
