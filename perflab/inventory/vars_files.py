"""``group_vars/`` and ``host_vars/`` beside an inventory, found as Ansible finds them.

For a group or host ``NAME`` Ansible looks, in this order, for
``group_vars/NAME`` (a file without extension, or a directory),
``NAME.yml``, ``NAME.yaml`` and ``NAME.json``, and takes the first that exists.
A directory is read whole: every file without extension or ending in .yml,
.yaml or .json, in sorted order, descending into subdirectories without an
extension; hidden files and names ending in ``~`` are skipped. Later files
override earlier ones key by key; an empty file counts as no variables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perflab.errors import InputError, Location, describe
from perflab.inventory.problems import Problems, did_you_mean
from perflab.inventory.yaml_reader import parse_inventory_yaml
from perflab.spec.yamlbounds import check_decoded
from perflab.spec.yamlpos import read_text, short_field

EXTENSIONS = (".yml", ".yaml", ".json")

Vars = tuple[dict[str, Any], dict[str, Location]]


def find_vars_files(directory: Path, name: str) -> list[Path]:
    """The files that hold ``name``'s variables in ``directory`` (group_vars or host_vars)."""
    for candidate in (directory / name, *(directory / (name + ext) for ext in EXTENSIONS)):
        if candidate.is_dir():
            return _dir_files(candidate)
        if candidate.exists():
            return [candidate]
    return []


def _dir_files(directory: Path) -> list[Path]:
    found: list[Path] = []
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name.endswith("~"):
            continue
        suffix = path.suffix
        if path.is_dir() and not suffix:
            found.extend(_dir_files(path))
        elif path.is_file() and (not suffix or suffix in EXTENSIONS):
            found.append(path)
    return found


def load_vars(files: list[Path], problems: Problems) -> Vars:
    """The variables of several files merged in order, and where each one is set."""
    values: dict[str, Any] = {}
    origins: dict[str, Location] = {}
    for path in files:
        try:
            data, where = _read(path)
        except InputError as exc:
            problems.add(exc)
            continue
        for key, value in data.items():
            values[key] = value
            origins[key] = where.get(key, Location(str(path)))
    return values, origins


def _read(path: Path) -> tuple[dict[str, Any], dict[str, Location]]:
    text = read_text(path)
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        raise InputError(
            "this file is encrypted with ansible-vault, which perflab cannot read",
            location=Location(str(path)),
        )
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            pass  # read as YAML below, which says where the problem is
        else:
            problem = check_decoded(data)
            if problem:
                message, where = problem
                raise InputError(message, location=Location(str(path)), field=short_field(where))
            return _mapping(data, path), {}
    data, pos = parse_inventory_yaml(text, str(path))
    data = _mapping(data, path)
    return data, {key: pos.key((key,)) for key in data}


def _mapping(data: Any, path: Path) -> dict[str, Any]:
    if not data:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            f"a variables file must be a mapping of variable names to values, got {describe(data)}",
            location=Location(str(path), 1, 1),
        )
    for key in data:
        if not isinstance(key, str):
            raise InputError(
                f"a variable name must be a string, got {describe(key)}",
                location=Location(str(path), 1, 1),
            )
    return data


def stray_files(directory: Path, names: set[str], kind: str) -> list[str]:
    """Warnings for vars files that match no group (or host) of the inventory."""
    if not directory.is_dir():
        return []
    notes = []
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        entry, stem, suffix = path.name, path.stem, path.suffix
        known = entry in names or (suffix in EXTENSIONS and stem in names)
        if known or entry.startswith(".") or entry.endswith("~"):
            continue
        if suffix and suffix not in EXTENSIONS:
            continue
        name = stem if suffix else entry
        notes.append(
            f"{directory / entry} matches no {kind} of the inventory, so Ansible "
            f"and perflab ignore it{did_you_mean(name, names)}"
        )
    return notes
