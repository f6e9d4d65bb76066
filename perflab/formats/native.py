"""perflab's own JSON: the normalized result (``perflab parse --json``, ``results show``).

The document written by :meth:`perflab.model.ResultSet.to_dict` (``"schema":
"perflab-result/1"``), or a run document that carries the same ``benchmarks`` list beside
``run_id``, ``environment`` ... Reading it back gives the same ResultSet.
"""

from __future__ import annotations

from perflab.errors import FormatError, describe
from perflab.model import SCHEMA, ResultSet, ResultShapeError, result_from_dict

NAME = "perflab"
# A normalized result holds whatever metrics it was written with.
METRICS: tuple[str, ...] = ()
OPEN_ENDED = True
_PREFIX = SCHEMA.split("/")[0] + "/"


def matches(data: object) -> bool:
    """A mapping with our schema tag, or a "benchmarks" list of entries with "metrics"."""
    if not isinstance(data, dict):
        return False
    schema = data.get("schema")
    if isinstance(schema, str):
        return schema.startswith(_PREFIX)
    rows = data.get("benchmarks")
    return (
        isinstance(rows, list)
        and bool(rows)
        and isinstance(rows[0], dict)
        and ("metrics" in rows[0])
    )


def from_json(data: object, source: str | None = None) -> ResultSet:
    """Validate and load a normalized result document."""
    if isinstance(data, dict):
        _check_schema(data.get("schema"), source)
        meta = data.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise FormatError(
                NAME, f"expected a mapping, got {describe(meta)}", source=source, where="$.meta"
            )
    try:
        result = result_from_dict(data)
    except ResultShapeError as exc:
        message = str(exc).removeprefix(f"{exc.path}: ")
        raise FormatError(NAME, message, source=source, where=exc.path) from None
    if not result.benchmarks:
        raise FormatError(NAME, "no benchmarks found", source=source, where="$.benchmarks")
    return result


def _check_schema(schema: object, source: str | None) -> None:
    if schema is None or schema == SCHEMA:
        return
    if isinstance(schema, str) and schema.startswith(_PREFIX):
        raise FormatError(
            NAME,
            f"written as {schema}, this perflab reads {SCHEMA}: upgrade perflab",
            source=source,
            where="$.schema",
        )
    raise FormatError(
        NAME, f"expected schema {SCHEMA!r}, got {describe(schema)}", source=source, where="$.schema"
    )
