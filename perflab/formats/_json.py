"""Reading JSON outputs with errors that name the JSON path ("$.benchmarks[3].real_time").

:func:`load` turns a decoding failure into a FormatError naming the line and column (and
saying "cut off" when the document simply ends early). :class:`JsonReader` fetches typed
values and raises FormatError with the path of the offending value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from perflab.errors import FormatError, describe

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def load(text: str, fmt: str, source: str | None) -> object:
    """Decode ``text``; a truncated or malformed document is a FormatError with its line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        ended = exc.pos >= len(text.rstrip()) or _unclosed(text)
        message = (
            "the JSON document ends early: the output looks cut off"
            if ended
            else f"invalid JSON: {exc.msg}"
        )
        where = f"line {exc.lineno} column {exc.colno}"
        raise FormatError(fmt, message, source=source, where=where) from None
    except RecursionError:
        raise FormatError(fmt, "JSON nested too deeply", source=source) from None


def _unclosed(text: str) -> bool:
    """Does the document stop inside a string or with brackets still open (cut off)?"""
    bare = _STRING.sub('""', text)
    if bare.count('"') % 2:
        return True
    return bare.count("{") + bare.count("[") > bare.count("}") + bare.count("]")


def child(path: str, key: str | int) -> str:
    """The JSON path of ``key`` below ``path``: ``$.a``, ``$.a[3]``, ``$.a["gc.time"]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


class JsonReader:
    """Typed access to decoded JSON; every failure names the format, source and JSON path."""

    def __init__(self, fmt: str, source: str | None) -> None:
        self.fmt = fmt
        self.source = source

    def error(self, path: str, message: str) -> FormatError:
        return FormatError(self.fmt, message, source=self.source, where=path)

    def mapping(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping, got {describe(value)}")
        return value

    def items(self, value: object, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {describe(value)}")
        return value

    def field(self, obj: dict[str, Any], key: str, path: str) -> object:
        """``obj[key]``; a missing key is an error at the key's path."""
        if key not in obj:
            raise self.error(child(path, key), "required field is missing")
        return obj[key]

    def text(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            raise self.error(path, f"expected a string, got {describe(value)}")
        return value

    def number(self, value: object, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, f"expected a number, got {describe(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise self.error(path, f"number too large: {describe(value)}") from None
        if not math.isfinite(number):
            raise self.error(path, f"expected a finite number, got {number}")
        return number

    def numbers(self, value: object, path: str) -> list[float]:
        """A list of finite numbers (the fast path matters: per-round data can be large)."""
        values = self.items(value, path)
        try:
            floats = [float(v) for v in values if type(v) is float or type(v) is int]
        except OverflowError:
            floats = []
        if len(floats) == len(values) and all(math.isfinite(v) for v in floats):
            return floats
        return [self.number(v, child(path, i)) for i, v in enumerate(values)]
