"""Pieces every parser shares: collecting samples with errors that say where, and naming.

A parser feeds samples into a :class:`Collector`; :meth:`Collector.finish` refuses an empty
result ("a file with no benchmarks is an error, not an empty success") and stamps the
metadata every result carries (``format``, ``tool``, ``source``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from perflab.errors import FormatError
from perflab.model import Direction, ResultBuilder, ResultSet

# Words in a counter or unit name that mean "per second": more is better.
_RATE_SUFFIXES = ("/s", "/sec", "per_second", "per_sec", "_ps")


class Collector:
    """A :class:`ResultBuilder` that knows its format and source, for error messages."""

    def __init__(self, fmt: str, source: str | None, tool: str | None = None) -> None:
        self.fmt = fmt
        self.source = source
        self.builder = ResultBuilder()
        self.meta: dict[str, Any] = {"format": fmt, "tool": tool or fmt}
        if source:
            self.meta["source"] = source

    def error(self, message: str, where: str | None = None) -> FormatError:
        """A FormatError for this format and source (raise it)."""
        return FormatError(self.fmt, message, source=self.source, where=where)

    def add(
        self,
        bench: str,
        metric: str,
        values: Iterable[float],
        unit: str,
        direction: Direction,
        *,
        params: Mapping[str, str] | None = None,
        where: str | None = None,
    ) -> None:
        """Append samples; none at all, or a unit that does not convert, is an error."""
        samples = list(values)
        if not samples:
            raise self.error(f"{bench}: no {metric} samples", where)
        try:
            self.builder.add_many(bench, metric, samples, unit, direction, params)
        except ValueError as exc:
            raise self.error(str(exc), where) from None

    def finish(self, what: str = "benchmark results") -> ResultSet:
        """The result; no benchmark at all is an error naming what was looked for."""
        result = self.builder.result
        if not any(b.metrics for b in result.benchmarks):
            raise self.error(f"no {what} found")
        result.meta.update(self.meta)
        return result


def rate_like(name: str) -> bool:
    """True when a unit or counter name reads as "per second" (a throughput)."""
    lowered = name.lower()
    return lowered.endswith(_RATE_SUFFIXES)


def direction_for(name: str) -> Direction:
    """Higher is better for rates (``/s``, ``per_second``), lower for everything else."""
    return "higher" if rate_like(name) else "lower"


def params_from_name(name: str, separators: str) -> dict[str, str]:
    """Arguments encoded in a ``/``-separated benchmark name.

    ``BM_x/n:64/8`` with separators ``":"`` gives ``{"n": "64", "arg1": "8"}``: named parts
    keep their name, the others are numbered by their position among the arguments.
    """
    params: dict[str, str] = {}
    for index, part in enumerate(name.split("/")[1:]):
        key, value = _split_named(part, separators)
        params[key if key is not None else f"arg{index}"] = value
    return params


def _split_named(part: str, separators: str) -> tuple[str | None, str]:
    for sep in separators:
        key, found, value = part.partition(sep)
        if found and key and re.fullmatch(r"[A-Za-z_][\w.-]*", key):
            return key, value
    return None, part


def unique_names(names: list[str], tags: list[str]) -> list[str]:
    """Names made unique: a name used more than once gets its tag appended (``name/tag``).

    Only colliding names change, so the common case keeps the tool's own name.
    """
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return [f"{n}/{t}" if counts[n] > 1 else n for n, t in zip(names, tags, strict=True)]


def clean_text(value: object) -> str:
    """A parameter value as text (numbers as the tool wrote them, None as "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
