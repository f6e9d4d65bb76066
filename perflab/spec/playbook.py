"""Preparation profiles (playbooks): load, validate, resolve per-host variables.

A playbook is Ansible-like YAML: a mapping with ``tasks`` (or a list of plays,
whose tasks are concatenated), each task naming one knob and its desired
state. Arguments may use inventory variables, whole or inside a string:
``cpus: "{{ perflab_isolated_cpus | default('reserved') }}"``.

Profiles are found by path, or by name in ``playbooks/`` (``--profile shield``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab.errors import InputError, Location, SpecErrors
from perflab.spec.schema import schema_errors
from perflab.spec.yamlpos import Positions, field_name, parse_yaml, read_text

_PLAYBOOK_DIRS = (
    Path(__file__).resolve().parent.parent / "_data" / "playbooks",  # installed wheel
    Path(__file__).resolve().parent.parent.parent / "playbooks",  # source checkout
)
_WHOLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\((.*)\))?\s*\}\}$")
_PART = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\((.*?)\))?\s*\}\}")


@dataclass(frozen=True)
class Task:
    name: str
    knob: str
    args: dict[str, Any]
    where: tuple[str | int, ...]  # path in the file, for messages


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path | None
    description: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    verify: dict[str, Any] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    pin: dict[str, Any] = field(default_factory=dict)  # defaults for jobs (docs/pinning.md)
    positions: Positions | None = field(default=None, compare=False, repr=False)

    def location(self, where: tuple[str | int, ...]) -> Location | None:
        return self.positions.value(where) if self.positions else None


def available_profiles() -> list[str]:
    names: set[str] = set()
    for folder in _PLAYBOOK_DIRS:
        names |= {p.stem for p in folder.glob("*.yml")} if folder.is_dir() else set()
    return sorted(names)


def find_profile(ref: str) -> Path:
    path = Path(ref)
    if path.is_file():
        return path
    if "/" not in ref:
        for folder in _PLAYBOOK_DIRS:
            for suffix in (".yml", ".yaml"):
                candidate = folder / f"{ref}{suffix}"
                if candidate.is_file():
                    return candidate
    known = available_profiles()
    close = difflib.get_close_matches(ref, known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise InputError(f'no profile "{ref}"{hint}; expected a playbook file or one of: '
                     f"{', '.join(known)}", field="--profile")


def _plays(data: Any) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    if isinstance(data, list):
        return [((i,), play) for i, play in enumerate(data)]
    return [((), data)]


def parse_profile(text: str, file: str, path: Path | None = None) -> Profile:
    data, pos = parse_yaml(text, file)
    if not isinstance(data, dict | list) or not data:
        raise InputError("expected a playbook (a mapping with tasks, or a list of plays), got "
                         f"{'nothing' if data is None else type(data).__name__}",
                         location=Location(file, 1, 1))
    errors = schema_errors(data, "playbook", pos)
    if errors:
        raise SpecErrors(errors)
    tasks: list[Task] = []
    variables: dict[str, Any] = {}
    verify: dict[str, Any] = {}
    pin: dict[str, Any] = {}
    for base, play in _plays(data):
        variables.update(play.get("vars") or {})
        verify.update(play.get("verify") or {})
        pin.update(play.get("pin") or {})
        for i, raw in enumerate(play.get("tasks") or []):
            knobs = [k for k in raw if k != "name"]
            where = (*base, "tasks", i)
            if len(knobs) != 1:
                got = " and ".join(knobs) if knobs else "none"
                raise InputError(f"expected exactly one knob per task, got {got}",
                                 location=pos.value(where), field=field_name(where))
            knob = knobs[0]
            tasks.append(Task(name=raw.get("name") or knob, knob=knob,
                              args=dict(raw[knob] or {}), where=(*where, knob)))
    first = data if isinstance(data, dict) else data[0]
    name = first.get("name") or (path.stem if path else "profile")
    return Profile(name=name, path=path, description=first.get("description", ""),
                   vars=variables, verify=verify, tasks=tasks, pin=pin, positions=pos)


def load_profile(ref: str) -> Profile:
    path = find_profile(ref)
    return parse_profile(read_text(path), str(path), path.resolve())


# -- variables -----------------------------------------------------------------------------


def _default(text: str | None, where: str) -> Any:
    """A template's ``default(...)``, read as YAML by the same bounded loader as files."""
    if text is None or text.strip() in ("none", "None"):  # Jinja's none: leave it unset
        return None
    try:
        return parse_yaml(text, "default")[0]
    except InputError as exc:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InputError(f"default({shown}): {exc.message}", field=where) from None


def resolve(value: Any, variables: Mapping[str, Any], where: str) -> Any:
    """Substitute ``{{ name }}`` / ``{{ name | default(x) }}`` in ``value`` (recursively)."""
    if isinstance(value, dict):
        resolved = {k: resolve(v, variables, f"{where}.{k}") for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not None}  # default(none): unset
    if isinstance(value, list):
        return [resolve(v, variables, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or "{{" not in value:
        return value
    whole = _WHOLE.match(value.strip())
    if whole:
        return _lookup(whole.group(1), whole.group(2), variables, where)
    return _PART.sub(lambda m: str(_lookup(m.group(1), m.group(2), variables, where)), value)


def _lookup(name: str, default: str | None, variables: Mapping[str, Any], where: str) -> Any:
    if name in variables:
        return variables[name]
    if default is not None:
        return _default(default, where)
    raise InputError(f'variable "{name}" is not defined for this runner (set it in the '
                     "inventory or the playbook's vars, or give a default)", field=where)


def task_args(profile: Profile, task: Task, host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The task's arguments with variables resolved (host vars override the playbook's)."""
    variables = {**profile.vars, **host_vars}
    try:
        resolved = resolve(task.args, variables, field_name(task.where))
    except InputError as exc:
        raise InputError(exc.message, location=profile.location(task.where),
                         field=exc.field) from None
    if not isinstance(resolved, dict):
        raise InputError("expected a mapping of arguments", location=profile.location(task.where))
    return resolved
