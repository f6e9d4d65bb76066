"""Load YAML while remembering where every key and value stands in the file.

``load_yaml`` returns the plain data (dicts, lists, scalars, typed as PyYAML's
safe loader types them) plus a :class:`Positions` map from a field path
(a tuple of keys and list indices) to its 1-based line and column, so that
later validation errors can point at ``file:line:col``.

Malformed YAML, duplicate keys and unreadable files become :class:`InputError`
with a location, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from perflab.errors import InputError, Location

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


def _walk(node: yaml.Node, path: PathKey, pos: Positions, loader: yaml.SafeLoader) -> None:
    pos.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
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
                    location=Location(pos.file, line, col), field=field_name((*path, str(key))))
            seen[key] = _mark(key_node)
            child = (*path, key if isinstance(key, int) else str(key))
            pos.keys[child] = _mark(key_node)
            _walk(value_node, child, pos, loader)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), pos, loader)


def parse_yaml(text: str, file: str, *,
               loader_class: type[yaml.SafeLoader] = yaml.SafeLoader) -> tuple[Any, Positions]:
    """Parse one YAML document from ``text``; ``file`` is used in messages only.

    ``loader_class`` may add tags to the safe loader's (inventories read ``!vault``).
    """
    pos = Positions(file=file)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, pos
        data = loader.construct_document(node)
        _walk(node, (), pos, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or "malformed YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise InputError(f"invalid YAML: {problem}{context}", location=where) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", location=Location(file)) from None
    finally:
        loader.dispose()
    return data, pos


def read_text(path: str | Path) -> str:
    """Read a user's file, turning the usual failures into one-line input errors."""
    target = Path(path)
    try:
        return target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", location=Location(str(path))) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", location=Location(str(path))) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied",
                         location=Location(str(path))) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})",
                         location=Location(str(path))) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}",
                         location=Location(str(path))) from None


def load_yaml(path: str | Path) -> tuple[Any, Positions]:
    """Read and parse a YAML file with positions."""
    return parse_yaml(read_text(path), str(path))
