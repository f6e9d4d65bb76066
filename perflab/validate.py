"""Validate any perflab file: tell its kind from its content, then check it fully."""

from __future__ import annotations

from pathlib import Path

from perflab.errors import SpecErrors
from perflab.spec.job import parse_job
from perflab.spec.yamlpos import parse_yaml, read_text


def file_kind(path: str, data: object) -> str:
    """ "job", "playbook" or "inventory" (by content, then by name)."""
    if isinstance(data, dict) and "benchmarks" in data:
        return "job"
    if isinstance(data, list) or (isinstance(data, dict) and "tasks" in data):
        return "playbook"
    if isinstance(data, dict) and (
        "all" in data
        or any(isinstance(v, dict) and ("hosts" in v or "children" in v) for v in data.values())
    ):
        return "inventory"
    parts = Path(path).parts
    if "playbooks" in parts:
        return "playbook"
    if "inventories" in parts:
        return "inventory"
    return "job"


def validate_file(path: str) -> str:
    """Raise InputError/SpecErrors for every problem; return the kind when it is fine."""
    if Path(path).is_dir():
        return _inventory(path)
    text = read_text(path)
    if Path(path).suffix in (".ini", ".cfg", "") and text.lstrip().startswith(("[", "#", ";")):
        return _inventory(path)
    data, _ = parse_yaml(text, path)
    kind = file_kind(path, data)
    if kind == "job":
        job = parse_job(text, path, Path(path).resolve())
        if job.raw.get("matrix"):
            from perflab.spec.matrix import axes, count

            sizes = " x ".join(f"{k} {len(v)}" for k, v in axes(job.raw).items())
            return f"job, a matrix of {count(job.raw)} jobs: {sizes}"
    elif kind == "inventory":
        _inventory(path)
    else:
        from perflab.spec.playbook import parse_profile

        parse_profile(text, path, Path(path).resolve())
    return kind


def _inventory(path: str) -> str:
    from perflab.inventory import validate_inventory

    errors = validate_inventory(Path(path))
    if errors:
        raise SpecErrors(errors)
    return "inventory"
