"""Load YAML while remembering where every key and value stands in the file.

``load_yaml`` returns the plain data (dicts, lists, scalars, typed as PyYAML's
safe loader types them) plus a :class:`Positions` map from a field path
(a tuple of keys and list indices) to its 1-based line and column, so that
later validation errors can point at ``file:line:col``.

Malformed YAML, duplicate keys, unreadable files and documents over the limits
(:mod:`perflab.limits`, :mod:`perflab.spec.yamlbounds`) become :class:`InputError`
with a location, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from perflab.errors import InputError, Location
from perflab.limits import MAX_YAML_BYTES, read_limited, size_text
from perflab.spec.yamlbounds import BoundedLoader, YamlLimit

PathKey = tuple[str | int, ...]


@dataclass
class Positions:
    """Where things are in one file. Line and column are 1-based."""

    file: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def value(self, path: PathKey) -> Location:
        """The location of the value at ``path``, or of its nearest ancestor."""
        return self._find(self.values, path)

    def key(self, path: PathKey) -> Location:
        """The location of the key that names ``path`` (falls back to the value)."""
        if path in self.keys:
            line, col = self.keys[path]
            return Location(self.file, line, col)
        return self.value(path)

    def _find(self, table: dict[PathKey, tuple[int, int]], path: PathKey) -> Location:
        probe = path
        while probe and probe not in table:
            probe = probe[:-1]
        if probe in table:
            line, col = table[probe]
            return Location(self.file, line, col)
        return Location(self.file, 1, 1)


def field_name(path: PathKey) -> str:
    """Render a path as users write it: ``benchmarks[0].command``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _no_nul(node: yaml.Node, path: PathKey, file: str) -> None:
    """A NUL written as an escape ("\\0", "\\x00") is refused like a raw one: no file,
    argument or variable perflab passes on may hold it."""
    if isinstance(node, yaml.ScalarNode) and "\x00" in node.value:
        line, col = _mark(node)
        raise InputError(
            "expected text, got a NUL character (written as an escape)",
            location=Location(file, line, col),
            field=field_name(path) or None,
        )


def _walk(node: yaml.Node, path: PathKey, pos: Positions, loader: yaml.SafeLoader) -> None:
    pos.values[path] = _mark(node)
    _no_nul(node, path, pos.file)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            _no_nul(key_node, path, pos.file)
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue
            if key in seen:
                line, col = _mark(key_node)
                first = seen[key]
                raise InputError(
                    f"duplicate key {key!r} (first defined at line {first[0]})",
                    location=Location(pos.file, line, col),
                    field=field_name((*path, str(key))),
                )
            seen[key] = _mark(key_node)
            child = (*path, key if isinstance(key, int) else str(key))
            pos.keys[child] = _mark(key_node)
            _walk(value_node, child, pos, loader)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), pos, loader)


def parse_yaml(
    text: str, file: str, *, loader_class: type[BoundedLoader] | None = None
) -> tuple[Any, Positions]:
    """Parse one YAML document from ``text``; ``file`` is used in messages only.

    The document is bounded (:mod:`perflab.spec.yamlbounds`): at most MAX_YAML_BYTES of
    text, MAX_YAML_NODES values with aliases expanded, MAX_YAML_DEPTH levels of nesting.
    ``loader_class`` (a :class:`BoundedLoader`) may add tags (inventories read ``!vault``).
    """
    pos = Positions(file=file)
    if len(text) > MAX_YAML_BYTES:
        raise InputError(
            f"expected at most {size_text(MAX_YAML_BYTES)} of YAML, got {len(text)} characters",
            location=Location(file),
        )
    loader = None
    try:
        loader = (loader_class or BoundedLoader)(text)
        node = loader.get_single_node()
        if node is None:
            return None, pos
        data = loader.construct_document(node)
        _walk(node, (), pos, loader)
    except YamlLimit as exc:
        raise InputError(
            exc.message,
            location=Location(file, exc.mark.line + 1, exc.mark.column + 1),
            field=short_field(exc.path),
        ) from None
    except yaml.reader.ReaderError as exc:
        raise _character_error(text, exc.position, file) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or "malformed YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise InputError(f"invalid YAML: {problem}{context}", location=where) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", location=Location(file)) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, pos


def short_field(path: PathKey) -> str:
    """A field path for a message about deep data: its first and last parts."""
    if len(path) > 8:
        return f"{field_name(path[:3])}...{field_name((0, *path[-3:]))[3:].lstrip('.')}"
    return field_name(path) or "(top level)"


def _character_error(text: str, index: int, file: str) -> InputError:
    """A character no text file should hold (NUL, other control characters), with its place."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    code = ord(text[index]) if index < len(text) else 0
    found = "a NUL character" if code == 0 else f"the control character #x{code:04x}"
    return InputError(f"expected text, got {found}", location=Location(file, line, column))


def read_text(path: str | Path) -> str:
    """Read a user's text file: a regular file of at most MAX_YAML_BYTES, UTF-8, no NUL;
    the usual failures become one-line input errors."""
    data = read_limited(path, MAX_YAML_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start})", location=Location(str(path))
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _character_error(text, nul, str(path))
    return text


def load_yaml(path: str | Path) -> tuple[Any, Positions]:
    """Read and parse a YAML file with positions."""
    return parse_yaml(read_text(path), str(path))
