"""A profile's ``pin`` defaults, resolved for one runner and checked (no host I/O).

A playbook may carry a play-level ``pin:`` (the job's ``pin`` without ``cpus``)
whose values may use inventory variables, like task arguments do::

    pin:
      runtime: auto
      nice: "{{ perflab_pin_nice | default(0) }}"

Every job run on a runner prepared with the profile gets these as defaults;
the job's own ``pin`` keys win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from perflab.errors import InputError
from perflab.spec.pin import PinSpec, parse_pin
from perflab.spec.playbook import Profile, resolve
from perflab.spec.schema import expected, load_schema
from perflab.spec.yamlpos import field_name


def _validator() -> Draft202012Validator:
    job = load_schema("job")
    pin = dict(job["$defs"]["pin"])
    pin["properties"] = {k: v for k, v in pin["properties"].items() if k != "cpus"}
    return Draft202012Validator({**pin, "$defs": job["$defs"]})


def resolved_pin(profile: Profile, host_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The profile's ``pin`` with variables substituted, checked against the job schema."""
    if not profile.pin:
        return {}
    raw = resolve(profile.pin, {**profile.vars, **host_vars}, ("pin",), profile.location)
    for error in _validator().iter_errors(raw):
        where = ("pin", *error.absolute_path)
        raise InputError(
            f"expected {expected(error.schema)}, got {error.instance!r}",
            location=profile.location(where),
            field=field_name(where),
        )
    _parse(profile, raw)  # the real-time opt-in, before anything is applied
    return dict(raw)


def _parse(profile: Profile, raw: Mapping[str, Any]) -> PinSpec:
    return parse_pin(raw, "profile", lambda where: profile.location(tuple(where.split("."))))


def profile_pin(profile: Profile, host_vars: Mapping[str, Any]) -> PinSpec | None:
    raw = resolved_pin(profile, host_vars)
    return _parse(profile, raw) if raw else None


def pin_from_notes(notes: Mapping[str, Any]) -> PinSpec | None:
    """The pin a runner prepared earlier recorded in its state file."""
    raw = notes.get("pin")
    return parse_pin(raw, "profile") if raw else None
