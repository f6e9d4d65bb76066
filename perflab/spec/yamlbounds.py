"""A YAML loader that refuses a document before it can expand past perflab's limits.

PyYAML composes a document into nodes in which an alias *is* its anchored node, so
composing an alias bomb costs nothing; what explodes is everything that walks the
data afterwards (positions, schema validation, copies). :class:`BoundedLoader`
counts while composing:

- values with every alias expanded: an alias (also a merge key's ``<<: *a``)
  adds its anchored node's whole size, so a bomb is refused at the alias that
  takes the document past :data:`~perflab.limits.MAX_YAML_NODES`;
- nesting of lists and mappings, refused past
  :data:`~perflab.limits.MAX_YAML_DEPTH` (deeper data would exhaust recursion in
  the composer and everything after it);
- aliases inside their own anchor (a recursive structure), refused outright.

A refusal is a :class:`YamlLimit` carrying the mark and the field path; the caller
(:func:`perflab.spec.yamlpos.parse_yaml`) turns it into an input error.
:func:`check_decoded` holds data decoded another way (JSON vars files) to the same
nesting and value limits.
"""

from __future__ import annotations

from typing import Any

import yaml

from perflab.limits import MAX_YAML_DEPTH, MAX_YAML_NODES

Part = str | int


class YamlLimit(Exception):
    """A document over a limit: where (``mark``, field ``path``) and what."""

    def __init__(self, message: str, mark: Any, path: tuple[Part, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.path = path


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting expanded values and nesting as it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.expanded = 0
        self.depth = 0
        self.sizes: dict[int, int] = {}  # id(anchored node) -> expanded size, once complete
        self.path: list[Part] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        part = _part(index)
        if part is not None:
            self.path.append(part)
        try:
            return self._compose(parent, index)
        finally:
            if part is not None:
                self.path.pop()

    def _compose(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            size = self.sizes.get(id(node))
            if size is None:
                self._refuse(
                    f"expected an alias to a complete value, got *{event.anchor} "
                    "inside its own anchor (a recursive structure)",
                    event,
                )
            self._count(size or 0, event)
            return node
        nests = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if nests and self.depth >= MAX_YAML_DEPTH:
            self._refuse(
                f"expected lists and mappings nested at most {MAX_YAML_DEPTH} "
                "levels deep, got deeper",
                event,
            )
        before = self.expanded
        self._count(1, event)
        self.depth += int(nests)
        node = super().compose_node(parent, index)
        self.depth -= int(nests)
        if getattr(event, "anchor", None) is not None:
            self.sizes[id(node)] = self.expanded - before
        return node

    def _count(self, size: int, event: yaml.Event) -> None:
        self.expanded += size
        if self.expanded <= MAX_YAML_NODES:
            return
        if isinstance(event, yaml.AliasEvent):
            self._refuse(
                f"expected at most {MAX_YAML_NODES} values with aliases expanded, "
                f"got more at the alias *{event.anchor} (an alias bomb)",
                event,
            )
        self._refuse(f"expected at most {MAX_YAML_NODES} values, got more", event)

    def _refuse(self, message: str, event: yaml.Event) -> None:
        raise YamlLimit(message, event.start_mark, tuple(self.path))


def _part(index: Any) -> Part | None:
    """The field path element of a composed value: a list index or a mapping key."""
    if index is None:  # a mapping key itself
        return None
    if isinstance(index, int):
        return index
    if isinstance(index, yaml.ScalarNode):
        return str(index.value)
    return "?"


def check_decoded(data: Any) -> tuple[str, tuple[Part, ...]] | None:
    """Why already decoded data (JSON) breaks the YAML limits, and where; None if it does
    not. Iterative: the data may be nested as deep as the decoder allowed."""
    count = 0
    todo: list[tuple[Any, tuple[Part, ...]]] = [(data, ())]
    while todo:
        value, path = todo.pop()
        count += 1
        if count > MAX_YAML_NODES:
            return f"expected at most {MAX_YAML_NODES} values, got more", path
        if isinstance(value, dict | list) and len(path) >= MAX_YAML_DEPTH:
            return (
                f"expected lists and mappings nested at most {MAX_YAML_DEPTH} levels "
                "deep, got deeper"
            ), path
        items = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else ()
        )
        todo.extend((child, (*path, key)) for key, child in items)
    return None
