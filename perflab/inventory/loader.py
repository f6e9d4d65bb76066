"""Read an inventory file or directory: pick the format, read, reconcile, merge.

Format, as Ansible picks it: ``.yml``/``.yaml``/``.json`` files are YAML; a
file without an extension is YAML if it parses as a YAML mapping and INI
otherwise; any other file is INI. A directory is read as Ansible reads one:
every file in sorted order, subdirectories included, skipping hidden files,
``group_vars``, ``host_vars``, ``vars_plugins`` and names ending in .md, .txt,
.rst, .cfg, .bak, .orig, .retry, .swp, .pyc, .pyo, .rpm or ``~``.
``group_vars/`` and ``host_vars/`` are read beside the file, or inside the
directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from perflab.errors import InputError, Location
from perflab.inventory.builder import InventoryBuilder
from perflab.inventory.ini_reader import read_ini_inventory
from perflab.inventory.merge import build_inventory
from perflab.inventory.model import Inventory
from perflab.inventory.problems import Problems
from perflab.inventory.yaml_reader import parse_inventory_yaml, read_yaml_inventory
from perflab.spec.yamlpos import read_text

YAML_SUFFIXES = (".yml", ".yaml", ".json")
_IGNORED = re.compile(
    r"^\.|^(?:group_vars|host_vars|vars_plugins)$|"
    r"(?:\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.cfg|\.retry)$"
)


def read_inventory(path: Path) -> tuple[Inventory | None, Problems]:
    """The inventory at ``path`` and every problem found on the way."""
    problems = Problems()
    if not path.exists():
        problems.error("no such file or directory", Location(str(path)))
        return None, problems
    builder = InventoryBuilder(problems, Location(str(path)))
    if path.is_dir():
        files = source_files(path)
        if not files:
            problems.error("this directory holds no inventory file", Location(str(path)))
        base_dir = path
    else:
        files, base_dir = [path], path.parent
    for file in files:
        _read_file(file, builder)
    builder.reconcile()
    builder.check_names()
    builder.check_depth()
    return build_inventory(builder, path, base_dir), problems


def source_files(directory: Path) -> list[Path]:
    """The inventory files of a directory, in the order Ansible reads them."""
    found: list[Path] = []
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if _IGNORED.search(path.name):
            continue
        found.extend(source_files(path) if path.is_dir() else [path])
    return found


def _read_file(path: Path, builder: InventoryBuilder) -> None:
    try:
        text = read_text(path)
    except InputError as exc:
        builder.problems.add(exc)
        return
    suffix = path.suffix.lower()
    if suffix == ".toml":
        builder.problems.error(
            "TOML inventories are not supported: use YAML or INI", Location(str(path))
        )
    elif suffix in YAML_SUFFIXES or (not suffix and _looks_like_yaml(text, path)):
        _read_yaml(text, path, builder)
    else:
        read_ini_inventory(text, str(path), builder)


def _read_yaml(text: str, path: Path, builder: InventoryBuilder) -> None:
    try:
        data, pos = parse_inventory_yaml(text, str(path))
    except InputError as exc:
        if "!unsafe" in str(exc):
            exc.hint = "Ansible's !unsafe YAML tag is not supported"
        builder.problems.add(exc)
        return
    read_yaml_inventory(data, pos, builder)


def _looks_like_yaml(text: str, path: Path) -> bool:
    """A file without extension is YAML when it parses as a mapping or a list."""
    try:
        data, _ = parse_inventory_yaml(text, str(path))
    except InputError:
        return False
    return isinstance(data, dict | list)
