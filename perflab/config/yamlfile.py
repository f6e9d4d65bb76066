"""Reading ``$PERFLAB_HOME/config.yaml``: bounded, checked whole, every problem placed.

Only a regular file of at most MAX_FILE_BYTES (a FIFO is refused without waiting for a
writer), UTF-8, one YAML mapping of settings with no aliases and shallow nesting: a few
lines can neither expand to gigabytes nor recurse Python to a crash. PyYAML's node marks
place every problem at ``file:line:col`` (the file is flat, so the marks are enough; the
path-keeping loader of :mod:`perflab.spec.yamlpos` sits above this layer).
"""

from __future__ import annotations

import os
import stat
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab.config.definitions import BY_NAME, MiB, Setting, Sourced, Wrong
from perflab.errors import InputError, Location, SpecErrors, describe
from perflab.names import unmatched

if TYPE_CHECKING:
    import yaml

#: the file is a few lines; 1 MiB is the bound of a job file
MAX_FILE_BYTES = 1 * MiB
#: levels of nesting (settings are flat: a nested value is a mistake to report, not parse)
MAX_DEPTH = 20


def read(path: Path) -> dict[str, Sourced[Any]] | None:
    """The settings the file at ``path`` holds, each checked; None when there is none."""
    text = _read_bounded(path)
    return None if text is None else parse(text, str(path))


def raise_all(errors: list[InputError]) -> None:
    """Raise the one error, or all of them together."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SpecErrors(errors)


def _read_bounded(path: Path) -> str | None:
    where = Location(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(
                "cannot read the file: a link to a missing file", location=where
            ) from None
        return None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", location=where) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"expected a file, got {_file_kind(info.st_mode)}", location=where)
        data = os.read(fd, MAX_FILE_BYTES + 1) if info.st_size <= MAX_FILE_BYTES else b""
    finally:
        os.close(fd)
    size = max(info.st_size, len(data))
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"expected at most {MAX_FILE_BYTES // MiB} MiB ({MAX_FILE_BYTES} "
            f"bytes) of YAML, got {size} bytes",
            location=where,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", location=where) from None


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def parse(text: str, file: str) -> dict[str, Sourced[Any]]:
    """The settings in a config file's text (``file`` names it in messages)."""
    import yaml

    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise InputError(
                "expected a mapping of settings (db_url: ..., lock_wait: ...), "
                f"got {_node_kind(node)}",
                location=_at(file, node),
            )
        return _settings(loader, node, file)
    except _Refused as exc:
        raise InputError(
            f"invalid YAML: {exc}", location=Location(file, exc.line, exc.column)
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        context = f" ({exc.context})" if exc.context else ""
        raise InputError(
            f"invalid YAML: {exc.problem or 'malformed'}{context}", location=where
        ) from None
    finally:
        loader.dispose()


def _settings(
    loader: yaml.SafeLoader, node: yaml.MappingNode, file: str
) -> dict[str, Sourced[Any]]:
    out: dict[str, Sourced[Any]] = {}
    lines: dict[str, int] = {}
    errors: list[InputError] = []
    for key_node, value_node in node.value:
        try:
            name = _key(key_node, file, lines)
            raw = loader.construct_object(value_node, deep=True)
            out[name] = _value(BY_NAME[name], raw, _at(file, value_node))
        except InputError as exc:
            errors.append(exc)
    raise_all(errors)
    return out


def _key(node: yaml.Node, file: str, lines: dict[str, int]) -> str:
    """The setting a key names: one that exists, written once, not the home."""
    import yaml

    where = _at(file, node)
    name = str(node.value) if isinstance(node, yaml.ScalarNode) else _node_kind(node)
    if name == "home":
        raise InputError(
            "is read from the environment only (PERFLAB_HOME): it says where this file is",
            location=where,
            field=name,
        )
    if name not in BY_NAME:
        raise unmatched("a setting", name, list(BY_NAME), field=name, location=where)
    if name in lines:
        raise InputError(
            f"duplicate key {name!r} (first defined at line {lines[name]})",
            location=where,
            field=name,
        )
    lines[name] = where.line or 0
    return name


def _value(setting: Setting, raw: object, where: Location) -> Sourced[Any]:
    try:
        value = setting.kind.read(raw, True)
    except Wrong as wrong:
        raise InputError(
            f"expected {setting.kind.expected}, got {wrong.found or describe(raw)}",
            location=where,
            field=setting.name,
        ) from None
    return Sourced(value, f"{where.file}:{where.line}")


def _at(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _node_kind(node: yaml.Node) -> str:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return "a list" if isinstance(node, yaml.SequenceNode) else "text"


class _Refused(Exception):
    """Something the config file's loader does not take, and where it stands."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line, self.column = line + 1, column + 1


@cache
def _loader_class() -> type[yaml.SafeLoader]:
    """PyYAML's safe loader without aliases and with at most MAX_DEPTH levels of nesting
    (imported on first use: ``perflab --version`` does not pay for PyYAML)."""
    import yaml

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            if self.check_event(yaml.AliasEvent):
                raise _Refused(
                    "aliases (*name) are not allowed in the config file", mark.line, mark.column
                )
            if self.depth >= MAX_DEPTH:
                raise _Refused(
                    f"values nested more than {MAX_DEPTH} levels deep", mark.line, mark.column
                )
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return Loader
