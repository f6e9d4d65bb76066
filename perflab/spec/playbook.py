"""Preparation profiles (playbooks): load, validate, resolve per-host variables.

A playbook is Ansible-like YAML: a mapping with ``tasks`` (or a list of plays,
whose tasks are concatenated), each task naming one knob and its desired
state. Arguments are Jinja2 templates over inventory variables, whole or
inside a string: ``cpus: "{{ perflab_isolated_cpus | default('reserved') }}"``
(:mod:`perflab.spec.template`).

Profiles are found by path, or by name in ``playbooks/`` (``--profile shield``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab.errors import InputError, Location, SpecErrors
from perflab.spec.template import has_template
from perflab.spec.yamlpos import PathKey, Positions, field_name, parse_yaml, read_text

_PLAYBOOK_DIRS = (
    Path(__file__).resolve().parent.parent / "_data" / "playbooks",  # installed wheel
    Path(__file__).resolve().parent.parent.parent / "playbooks",  # source checkout
)


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
    raise InputError(
        f'no profile "{ref}"{hint}; expected a playbook file or one of: {", ".join(known)}',
        field="--profile",
    )


def _plays(data: Any) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    if isinstance(data, list):
        return [((i,), play) for i, play in enumerate(data)]
    return [((), data)]


def parse_profile(text: str, file: str, path: Path | None = None) -> Profile:
    from perflab.spec.schema import schema_errors  # jsonschema: only to read a playbook

    data, pos = parse_yaml(text, file)
    if not isinstance(data, dict | list) or not data:
        raise InputError(
            "expected a playbook (a mapping with tasks, or a list of plays), got "
            f"{'nothing' if data is None else type(data).__name__}",
            location=Location(file, 1, 1),
        )
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
                raise InputError(
                    f"expected exactly one knob per task, got {got}",
                    location=pos.value(where),
                    field=field_name(where),
                )
            knob = knobs[0]
            tasks.append(
                Task(
                    name=raw.get("name") or knob,
                    knob=knob,
                    args=dict(raw[knob] or {}),
                    where=(*where, knob),
                )
            )
    problems = [e for t in tasks for e in _template_errors(t.args, t.where, pos)]
    problems += [
        e
        for base, play in _plays(data)
        for e in _template_errors(play.get("pin") or {}, (*base, "pin"), pos)
    ]
    if problems:
        raise SpecErrors(problems)
    first = data if isinstance(data, dict) else data[0]
    name = first.get("name") or (path.stem if path else "profile")
    return Profile(
        name=name,
        path=path,
        description=first.get("description", ""),
        vars=variables,
        verify=verify,
        tasks=tasks,
        pin=pin,
        positions=pos,
    )


def load_profile(ref: str) -> Profile:
    path = find_profile(ref)
    return parse_profile(read_text(path), str(path), path.resolve())


# -- templates -----------------------------------------------------------------------------


def _template_errors(value: Any, where: PathKey, pos: Positions) -> list[InputError]:
    """Syntax errors and unknown filters in the templates of ``value``, where they are."""
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _template_errors(v, (*where, k), pos)]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _template_errors(v, (*where, i), pos)]
    if not isinstance(value, str) or not has_template(value):
        return []
    from perflab.spec.template import check

    try:
        check(value)
    except InputError as exc:
        return [InputError(exc.message, location=pos.value(where), field=field_name(where))]
    return []


def resolve(
    value: Any,
    variables: Mapping[str, Any],
    where: PathKey,
    locate: Callable[[PathKey], Location | None] | None = None,
) -> Any:
    """``value`` with its templates rendered (recursively); an argument that renders to
    None (``default(none)``) is left out. Errors name the field at ``where`` and, with
    ``locate``, its place in the file."""
    if isinstance(value, dict):
        resolved = {k: resolve(v, variables, (*where, k), locate) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not None}
    if isinstance(value, list):
        return [resolve(v, variables, (*where, i), locate) for i, v in enumerate(value)]
    if not isinstance(value, str) or not has_template(value):
        return value
    from perflab.spec.template import render

    try:
        return render(value, variables)
    except InputError as exc:
        raise InputError(
            exc.message, location=locate(where) if locate else None, field=field_name(where)
        ) from None


def task_args(profile: Profile, task: Task, host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The task's arguments with variables resolved (host vars override the playbook's)."""
    variables = {**profile.vars, **host_vars}
    resolved = resolve(task.args, variables, task.where, profile.location)
    if not isinstance(resolved, dict):
        raise InputError("expected a mapping of arguments", location=profile.location(task.where))
    return resolved
