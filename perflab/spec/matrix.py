"""Job matrices: a job's ``matrix:`` lists expand into the Cartesian product of jobs.

::

    matrix:
      compiler: [gcc, clang]
      opt: ["-O2", "-O3"]

is four jobs, one per combination (``compiler=gcc, opt=-O2`` ...), in the order
the axes and values are written. In each, ``${{ matrix.compiler }}`` in any
text of the job (commands, setup steps, env values, workdir ...) is replaced by
the combination's value, and ``PERFLAB_MATRIX_COMPILER`` is set in the job's
environment. Every run of a combination is tagged with its values (``matrix``
in ``results show --json``).

The expansion is bounded (the ``matrix_max`` setting, default 64): a matrix
over it is an input error at the ``matrix`` key of the file (exit 3).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError

if TYPE_CHECKING:
    from perflab.spec.job import Job
    from perflab.spec.yamlpos import Positions

#: ``${{ matrix.NAME }}``, spaces inside the braces optional
REFERENCE = re.compile(r"\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: keys that are never substituted (the job's identity and the matrix itself)
_KEEP = ("name", "matrix")


def axes(raw: dict[str, Any]) -> dict[str, list[str]]:
    """The matrix's axes as text values, in file order (empty: no matrix)."""
    return {str(k): [_text(v) for v in values] for k, values in (raw.get("matrix") or {}).items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def count(raw: dict[str, Any]) -> int:
    """How many jobs the matrix expands into (1 without a matrix)."""
    total = 1
    for values in axes(raw).values():
        total *= len(values)
    return total


def combinations(raw: dict[str, Any]) -> list[dict[str, str]]:
    """Every combination of the axes' values, in order (``[{}]`` without a matrix)."""
    found = axes(raw)
    return [dict(zip(found, values, strict=True)) for values in itertools.product(*found.values())]


def label(cell: dict[str, str]) -> str:
    """``compiler=gcc,opt=-O2`` (empty without a matrix)."""
    return ",".join(f"{k}={v}" for k, v in cell.items())


def check_limit(raw: dict[str, Any], pos: Positions, limit: int) -> None:
    """A matrix expands into at most ``limit`` jobs (exit 3 at the ``matrix`` key)."""
    total = count(raw)
    if total <= limit:
        return
    sizes = " x ".join(f"{k} {len(v)}" for k, v in axes(raw).items())
    raise InputError(
        f"expected a matrix of at most {limit} jobs (the matrix_max setting), "
        f"got {total} ({sizes})",
        location=pos.value(("matrix",)),
        field="matrix",
        hint="drop values, or raise matrix_max (PERFLAB_MATRIX_MAX, docs/configuration.md)",
    )


def check_references(raw: dict[str, Any], pos: Positions) -> None:
    """Every ``${{ matrix.NAME }}`` names an axis (exit 3 at the text that uses it)."""
    known = axes(raw)
    for path, text in _strings(raw, ()):
        for name in REFERENCE.findall(text):
            if name not in known:
                where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(
                    "."
                )
                axes_named = ", ".join(known) or "none: the job has no matrix"
                raise InputError(
                    f'expected a matrix axis ({axes_named}), got "{name}"',
                    location=pos.value(path),
                    field=where,
                )


def _strings(data: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, str):
        return [(path, data)]
    if isinstance(data, dict):
        return [
            found
            for k, v in data.items()
            if not (not path and k in _KEEP)
            for found in _strings(v, (*path, k))
        ]
    if isinstance(data, list):
        return [found for i, v in enumerate(data) for found in _strings(v, (*path, i))]
    return []


def _substitute(data: Any, cell: dict[str, str], top: bool = True) -> Any:
    if isinstance(data, str):
        return REFERENCE.sub(lambda m: cell[m.group(1)], data)
    if isinstance(data, dict):
        return {
            k: v if top and k in _KEEP else _substitute(v, cell, False) for k, v in data.items()
        }
    if isinstance(data, list):
        return [_substitute(v, cell, False) for v in data]
    return data


def environment(cell: dict[str, str]) -> dict[str, str]:
    """``PERFLAB_MATRIX_<AXIS>`` for each axis of a combination."""
    return {f"PERFLAB_MATRIX_{k.upper()}": v for k, v in cell.items()}


def cell_of(job: Job, cell: dict[str, str]) -> Job:
    """The job of one combination of its matrix (its values substituted, tagged)."""
    from perflab.spec.job import build_job

    if set(cell) != set(axes(job.raw)):
        raise InputError(
            f"expected matrix values for {', '.join(axes(job.raw)) or 'nothing'}, "
            f"got {label(cell) or 'none'}",
            field="matrix",
        )
    data = _substitute(job.raw, cell)
    data["env"] = {**(data.get("env") or {}), **environment(cell)}
    assert job.positions is not None
    built = build_job(data, job.positions, job.path, job.sha256)
    digest = json.dumps(cell, sort_keys=True)
    sha = hashlib.sha256(f"{job.sha256}\0{digest}".encode()).hexdigest()
    # the workdir as the job had it (a bundle unpacked on a worker), unless the matrix names it
    workdir = built.workdir if data.get("workdir") != job.raw.get("workdir") else job.workdir
    return replace(built, sha256=sha, matrix=dict(cell), raw=job.raw, workdir=workdir)


def expand(job: Job) -> list[Job]:
    """The jobs of a matrix, one per combination; a job without a matrix is itself."""
    if not job.raw.get("matrix"):
        return [job]
    return [cell_of(job, cell) for cell in combinations(job.raw)]
