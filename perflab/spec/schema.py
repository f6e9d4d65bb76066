"""Validate data against ``schemas/*.schema.json`` with errors users can act on.

Each jsonschema error becomes an :class:`InputError` that names
``file:line:col``, the field path, what was expected and what was found::

    jobs/router.yaml:14:9: repetitions.runs: expected an integer >= 1, got "ten"

Schemas may carry ``"x-expected"`` on any subschema: a phrase describing what
is expected there ("a CPU list like \\"2-5,8\\""), used verbatim in messages.
Unknown keys get a "did you mean" suggestion.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import jsonschema
from jsonschema import Draft202012Validator

from perflab.errors import InputError, describe
from perflab.limits import MAX_DURATION_S, MIN_DURATION_S
from perflab.spec.units import seconds
from perflab.spec.yamlpos import PathKey, Positions, field_name

_SCHEMA_DIRS = (
    Path(__file__).resolve().parent.parent / "_data" / "schemas",  # installed wheel
    Path(__file__).resolve().parent.parent.parent / "schemas",  # source checkout
)

_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def schema_file(name: str) -> Path:
    """The path of ``schemas/<name>.schema.json`` in a checkout or an installed wheel."""
    for folder in _SCHEMA_DIRS:
        candidate = folder / f"{name}.schema.json"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"schema {name!r} not found in {[str(d) for d in _SCHEMA_DIRS]}")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_file(name).read_text(encoding="utf-8"))
    return data


def _finite_number(checker: jsonschema.TypeChecker, instance: object) -> bool:
    """JSON Schema's "number" without NaN and infinities (YAML's .nan, .inf): no field of a
    perflab file means them, and a NaN passes every minimum and maximum."""
    if not Draft202012Validator.TYPE_CHECKER.is_type(instance, "number"):
        return False
    return isinstance(instance, int) or math.isfinite(cast(float, instance))


def _duration(instance: object) -> bool:
    """``"format": "perflab-duration"``: from MIN_DURATION_S to MAX_DURATION_S (other types
    and malformed text are the type's and pattern's to refuse)."""
    try:
        value = (
            seconds(instance)
            if isinstance(instance, int | float | str) and not isinstance(instance, bool)
            else None
        )
    except ValueError:
        return True
    return value is None or MIN_DURATION_S <= value <= MAX_DURATION_S


_FORMATS = copy.deepcopy(Draft202012Validator.FORMAT_CHECKER)
_FORMATS.checks("perflab-duration")(_duration)
_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number),
)


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    validator: Draft202012Validator = _Validator(schema, format_checker=_FORMATS)
    return validator


def _bounds(schema: dict[str, Any]) -> str:
    parts = []
    if "minimum" in schema:
        parts.append(f">= {schema['minimum']}")
    if "exclusiveMinimum" in schema:
        parts.append(f"> {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        parts.append(f"<= {schema['maximum']}")
    if "exclusiveMaximum" in schema:
        parts.append(f"< {schema['exclusiveMaximum']}")
    return " and ".join(parts)


def expected(schema: Any) -> str:
    """A phrase for what ``schema`` accepts: "an integer >= 1", "one of "a", "b""."""
    if not isinstance(schema, dict):
        return "a valid value"
    if "x-expected" in schema:
        return str(schema["x-expected"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    for combo in ("oneOf", "anyOf"):
        if combo in schema:
            return " or ".join(dict.fromkeys(str(expected(s)) for s in schema[combo]))
    kind = schema.get("type")
    if isinstance(kind, list):
        text = " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kind)
    elif isinstance(kind, str):
        text = _TYPE_WORDS.get(kind, kind)
    else:
        text = "a valid value"
    if kind == "string" and "pattern" in schema:
        text += f" matching {schema['pattern']}"
    if kind == "array" and "minItems" in schema:
        text = f"a list of at least {schema['minItems']} item(s)"
    if kind == "string" and schema.get("minLength", 0) >= 1:
        text = "a non-empty string"
    bounds = _bounds(schema)
    return f"{text} {bounds}" if bounds else text


def _unknown_keys(error: jsonschema.ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [
        str(k) for k in instance if k not in known and not any(p.search(str(k)) for p in patterns)
    ]


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _deepest(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For oneOf/anyOf, the errors of the alternative that got furthest into the value.

    A wrong type of the whole value stays one error ("expected A or B"); a value
    that matched an alternative's shape but has problems inside gets those problems.
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[object, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    best = max(branches.values(), key=lambda errs: max(len(e.absolute_path) for e in errs))
    if max(len(e.absolute_path) for e in best) <= len(error.absolute_path):
        return [error]
    return [deep for sub in best for deep in _deepest(sub)]


def _convert(error: jsonschema.ValidationError, pos: Positions) -> Iterator[InputError]:
    for deep in _deepest(error):
        yield from _convert_one(deep, pos)


def _convert_one(error: jsonschema.ValidationError, pos: Positions) -> Iterator[InputError]:
    path: PathKey = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = sorted(schema.get("properties", {}))
        for key in _unknown_keys(error):
            child = (*path, key)
            yield InputError(
                f"unknown key{_suggest(key, known)}; expected one of: {', '.join(known)}",
                location=pos.key(child),
                field=field_name(child),
            )
        return
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        yield InputError(
            f"missing required field {missing!r}",
            location=pos.value(path),
            field=field_name((*path, missing)),
        )
        return
    if error.validator == "minProperties":
        yield InputError(
            "expected a non-empty mapping, got an empty one",
            location=pos.value(path),
            field=field_name(path),
        )
        return
    if error.validator == "uniqueItems":
        yield InputError(
            "expected unique items, got duplicates",
            location=pos.value(path),
            field=field_name(path),
        )
        return
    parent_schema = error.schema
    if error.validator in (
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "type",
        "pattern",
        "enum",
        "const",
        "minLength",
        "minItems",
        "maxItems",
        "oneOf",
        "anyOf",
        "format",
    ):
        wanted = expected(parent_schema)
    else:
        wanted = error.message
    yield InputError(
        f"expected {wanted}, got {describe(error.instance)}",
        location=pos.value(path),
        field=field_name(path) or "(top level)",
    )


def schema_errors(data: Any, schema_name: str, pos: Positions) -> list[InputError]:
    """All problems in ``data`` against ``schemas/<schema_name>.schema.json``, in file order."""
    errors: list[InputError] = []
    for raw in _validator(schema_name).iter_errors(data):
        errors.extend(_convert(raw, pos))

    def order(err: InputError) -> tuple[int, int]:
        loc = err.location
        return (loc.line or 0, loc.column or 0) if loc else (0, 0)

    unique: dict[str, InputError] = {str(e): e for e in sorted(errors, key=order)}
    return list(unique.values())
