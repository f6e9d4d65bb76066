"""One-variable experiments: ``--vary NAME=V1,V2,...`` -> one job per value (no I/O).

NAME is either

- a job field as a dotted path (``pin.runtime``, ``pin.erlang.sbwt``,
  ``repetitions.order``, ``env.GOGC``): every key the job format has, set or not;
  values are read as YAML scalars (``5`` is a number, ``true`` a boolean); or
- an environment variable the job sets (``env:`` or a benchmark's ``env:``) or
  that the runtime it pins reads (``ERL_FLAGS`` for erlang, ``GOGC`` for go ...);
  the value replaces it everywhere the job sets it.

Values are separated by commas; write ``\\,`` for a comma inside a value
(``--vary pin.cpus=1,1\\,2`` is "1" and "1,2"). Each variant is the job file
with that one change, validated like the file itself: everything else is equal
by construction.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from perflab.errors import InputError
from perflab.pinning.plan import resolve_runtimes
from perflab.pinning.runtimes import READS
from perflab.spec.job import Job, parse_job
from perflab.spec.pin import PinSpec, merge
from perflab.spec.schema import load_schema

FIELD = "--vary"


@dataclass(frozen=True)
class Variable:
    key: str
    values: list[str]

    @property
    def is_field(self) -> bool:
        return "." in self.key


def split_values(text: str) -> list[str]:
    """``a,b\\,c`` -> ["a", "b,c"]."""
    values, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += char if char == "," else "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            values.append(current)
            current = ""
        else:
            current += char
    return [*values, current + ("\\" if escaped else "")]


def parse_vary(items: Sequence[str]) -> Variable | None:
    """The experiment's one variable from the ``--vary`` options (None without any)."""
    if not items:
        return None
    if len(items) > 1:
        keys = ", ".join(i.partition("=")[0] for i in items)
        raise InputError(
            f"expected one variable per experiment, got {len(items)} ({keys}); "
            "run one experiment per variable",
            field=FIELD,
        )
    key, sep, rest = items[0].partition("=")
    if not sep or not key:
        raise InputError(f'expected NAME=V1,V2,..., got "{items[0]}"', field=FIELD)
    values = split_values(rest)
    if len(values) < 2:
        raise InputError(f'{key}: expected at least two values, got "{rest}"', field=FIELD)
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise InputError(f"{key}: expected different values, got {twice[0]!r} twice", field=FIELD)
    return Variable(key, values)


def _schema_node(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].removeprefix("#/$defs/")]
    return node


def check_field(key: str) -> None:
    """The dotted path must be a key of the job format (set in this job or not)."""
    schema = load_schema("job")
    node, defs = schema, schema["$defs"]
    parts = key.split(".")
    for i, part in enumerate(parts):
        node = _schema_node(node, defs)
        props = node.get("properties")
        if props is None and isinstance(node.get("additionalProperties"), dict):
            return  # a free mapping (env): any name
        if not props or part not in props:
            known = sorted(props or {})
            close = difflib.get_close_matches(part, known, n=1)
            hint = f' (did you mean "{".".join([*parts[:i], close[0]])}"?)' if close else ""
            raise InputError(f'the job has no key "{key}"{hint}', field=FIELD)
        node = props[part]


def env_keys(job: Job, pin: PinSpec | None = None) -> set[str]:
    """Environment variables a bare ``--vary NAME`` may change in this job."""
    keys = set(job.env) | {k for b in job.benchmarks for k in b.env}
    runtimes, _ = resolve_runtimes(merge(job.pin, pin), job)
    return keys | {k for r in runtimes for k in READS.get(r, ())}


def check_env(job: Job, key: str, pin: PinSpec | None = None) -> None:
    known = env_keys(job, pin)
    if key not in known:
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise InputError(
            f'the job has no key "{key}"{hint}: expected an environment variable '
            "the job sets or its pinned runtime reads, or a job field like "
            '"pin.runtime"',
            field=FIELD,
        )


def _scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


def changed(raw: dict[str, Any], variable: Variable, value: str) -> dict[str, Any]:
    """The job's data with the variable set to ``value``."""
    data = copy.deepcopy(raw)
    if not variable.is_field:
        data.setdefault("env", {})[variable.key] = value
        for bench in data.get("benchmarks", []):
            if variable.key in (bench.get("env") or {}):
                bench["env"][variable.key] = value
        return data
    *parents, last = variable.key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value if parents[:1] == ["env"] or parents[-1:] == ["env"] else _scalar(value)
    return data


def variant_jobs(job: Job, variable: Variable, pin: PinSpec | None = None) -> list[Job]:
    """One job per value, each validated; nothing else differs."""
    if variable.is_field:
        check_field(variable.key)
    else:
        check_env(job, variable.key, pin)
    jobs = []
    for value in variable.values:
        text = yaml.safe_dump(changed(job.raw, variable, value), sort_keys=False)
        where = f"{job.path or 'job'} (--vary {variable.key}={value})"
        try:
            variant = parse_job(text, where, job.path)
        except InputError as exc:
            raise InputError(f"{variable.key}={value}: {exc}", field=FIELD) from None
        if job.positions is not None:  # lines and columns of the file the user wrote
            variant = replace(variant, positions=replace(job.positions, file=where))
        jobs.append(variant)
    return jobs
