"""Plan tests as data (pyinfra style): ``tests/knobs/cases/<knob>.json``.

Each file holds ``{"cases": [...], "invalid_args": [...]}``. A case::

    {"doc": "what it shows", "args": {...}, "ctx": {"housekeeping": [0]},
     "host": {"/proc/sys/vm/swappiness": "60", "/run/systemd/system/": null},
     "commands": {"services:cron": {"exit": 0, "stdout": "...", "stderr": ""}},
     "status": "change", "changes": [{"target": ..., "old": ..., "new": ...}],
     "ops": [...], "reason": "substring", "notes": ["substring", ...], "state": {...}}

``host`` is the whole host as the knob could see it: a path maps to its
content, ``null`` to something that exists but cannot be read (a directory,
a write-only file). The facts the knob gets are what the real probe would
answer for the paths the knob asks for (:func:`probe`), so a knob that reads a
file it did not ask for fails its cases. Keys that a case leaves out are not
checked. ``invalid_args`` lists ``{"args": ..., "expected": "phrase"}``: the
knob's schema must reject them, and the message users get (through
:mod:`perflab.spec.schema`, as the playbook loader reports it) says the phrase.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from perflab.knobs import get_knob
from perflab.knobs.base import Facts, HostContext, Plan
from perflab.spec.schema import _convert
from perflab.spec.yamlpos import Positions

HERE = Path(__file__).resolve().parent / "cases"
CTX = {"online": [0, 1, 2, 3], "housekeeping": [0], "reserved": [1, 2, 3]}


def load(knob: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / f"{knob}.json").read_text())
    return data


def params(knob: str, key: str = "cases") -> list[Any]:
    """pytest parameters for the cases of ``knob``, named by their ``doc``."""
    items = load(knob).get(key, [])
    return [pytest.param(c, id=str(c.get("doc") or c.get("expected"))[:60]) for c in items]


def _glob_match(pattern: str, path: str) -> bool:
    """glob semantics: ``*`` stays inside one path component."""
    parts, names = pattern.split("/"), path.split("/")
    return len(parts) == len(names) and all(
        fnmatch.fnmatchcase(n, p) for p, n in zip(parts, names, strict=True)
    )


def probe(host: Mapping[str, str | None], patterns: Sequence[str]) -> Facts:
    """The Facts the real probe would answer for ``patterns`` on ``host``."""
    existing = {p.rstrip("/") or "/": v for p, v in host.items()}
    files: dict[str, str | None] = {}
    globs: dict[str, list[str]] = {}
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            globs[pattern] = sorted(p for p in existing if _glob_match(pattern, p))
            files.update({p: existing[p] for p in globs[pattern]})
        else:
            files[pattern] = existing.get(pattern)
    return Facts(files=files, globs=globs)


def run_case(knob_name: str, case: Mapping[str, Any]) -> Plan:
    knob = get_knob(knob_name)
    args = case.get("args", {})
    ctx = HostContext(**{**CTX, **case.get("ctx", {})})
    seen = probe(case.get("host", {}), knob.paths(args, ctx))
    facts = Facts(files=seen.files, globs=seen.globs, commands=case.get("commands", {}))
    return knob.plan("task", args, facts, ctx)


def check_case(knob_name: str, case: Mapping[str, Any]) -> None:
    """Plan the case and compare every key the case states."""
    knob = get_knob(knob_name)
    errors = list(Draft202012Validator(knob.args).iter_errors(case.get("args", {})))
    assert not errors, f"the case's args are invalid: {errors[0].message}"
    plan = run_case(knob_name, case)
    assert plan.status == case["status"], (plan.status, plan.reason)
    if "changes" in case:
        assert [c.to_dict() for c in plan.changes] == case["changes"]
    if "ops" in case:
        assert [dict(op) for c in plan.changes for op in c.ops] == case["ops"]
    if "reason" in case:
        assert plan.reason is not None and case["reason"] in plan.reason, plan.reason
    for note in case.get("notes", []):
        assert any(note in n for n in plan.notes), plan.notes
    if case.get("notes") == []:
        assert plan.notes == []
    if "state" in case:
        assert plan.state == case["state"]


def check_invalid(knob_name: str, case: Mapping[str, Any]) -> None:
    """The knob's schema refuses ``args`` and names what it expected."""
    knob = get_knob(knob_name)
    errors = list(Draft202012Validator(knob.args).iter_errors(case["args"]))
    assert errors, f"{case['args']} was accepted"
    where = Positions("playbook.yml")
    said = " | ".join(str(e) for raw in errors for e in _convert(raw, where))
    assert case["expected"] in said, said
