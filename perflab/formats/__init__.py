"""One pure parser per benchmark output format, all producing the normalized result.

    parse_text(text, "auto" | "go" | "gbench" | ..., source=None) -> ResultSet
    parse_path(path, fmt="auto") -> ResultSet     (reads the file; walks a Criterion dir)
                                                  (a regular file of at most MAX_RESULT_BYTES)
    detect(text, source=None) -> str              (the format name, or FormatError)
    metric_names(fmt) -> tuple | None             (the names it can produce; None: open-ended)

Parsers are imported when first used, and only use the standard library, so importing
this package stays cheap. ``time`` is not parsed from text: the harness builds it with
:func:`perflab.formats.time.time_result`. See docs/formats.md.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Protocol, cast

from perflab.errors import FormatError
from perflab.formats._sniff import JSON_FORMATS, sniff_json
from perflab.limits import MAX_RESULT_BYTES, read_limited
from perflab.model import ResultSet

FORMATS: tuple[str, ...] = (
    "auto",
    "time",
    "go",
    "gbench",
    "hyperfine",
    "pytest-benchmark",
    "criterion",
    "jmh",
    "perflab",
)
_MODULES = {
    "go": "go",
    "gbench": "gbench",
    "hyperfine": "hyperfine",
    "pytest-benchmark": "pytest_benchmark",
    "criterion": "criterion",
    "jmh": "jmh",
    "perflab": "native",
}
_TRIED = ", ".join(f for f in FORMATS if f not in ("auto", "time"))
_NO_DATA = object()


class _JsonFormat(Protocol):
    def matches(self, data: object) -> bool: ...
    def from_json(self, data: object, source: str | None = None) -> ResultSet: ...


class _Declared(Protocol):
    METRICS: tuple[str, ...]
    OPEN_ENDED: bool


def parse_text(text: str, fmt: str = "auto", *, source: str | None = None) -> ResultSet:
    """Parse one benchmark output; ``source`` (a file name) only appears in messages/meta."""
    if fmt not in FORMATS:
        raise FormatError(
            fmt, f"unknown format; expected one of {', '.join(FORMATS)}", source=source
        )
    if fmt == "auto":
        fmt, data = _detect(text, source)
        return _parse(text, fmt, source, data)
    try:
        return _parse(text, fmt, source, _NO_DATA)
    except FormatError as error:
        _raise_if_other_format(error, text, fmt, source)
        raise


def parse_path(path: Path, fmt: str = "auto") -> ResultSet:
    """Parse a file, or a Criterion.rs directory (``target/criterion`` or any folder below)."""
    path = Path(path)
    if path.is_dir():
        if fmt not in ("auto", "criterion"):
            raise FormatError(
                fmt,
                "is a directory; only the criterion format reads a directory (target/criterion)",
                source=str(path),
            )
        from perflab.formats import criterion

        return criterion.from_files(criterion.collect(path), str(path))
    text = read_limited(path, MAX_RESULT_BYTES).decode("utf-8", errors="replace")
    return parse_text(text, fmt, source=str(path))


def detect(text: str, source: str | None = None) -> str:
    """The format of ``text``; FormatError listing the formats tried when none matches."""
    return _detect(text, source)[0]


def metric_names(fmt: str) -> tuple[str, ...] | None:
    """The metric names ``fmt`` can produce, primary first (each parser declares them).

    None when the names are not known before the output is: ``auto`` (the output decides the
    format) and the formats whose tools add names of their own (Go's custom units, Google
    Benchmark's user counters, JMH's secondary metrics, perflab's own documents).
    """
    if fmt not in FORMATS:
        raise FormatError(fmt, f"unknown format; expected one of {', '.join(FORMATS)}")
    if fmt == "auto":
        return None
    module = "time" if fmt == "time" else _MODULES[fmt]
    declared = cast(_Declared, importlib.import_module(f"perflab.formats.{module}"))
    return None if declared.OPEN_ENDED else declared.METRICS


def _json_format(fmt: str) -> _JsonFormat:
    return cast(_JsonFormat, importlib.import_module(f"perflab.formats.{_MODULES[fmt]}"))


def _parse(text: str, fmt: str, source: str | None, data: object) -> ResultSet:
    if fmt == "time":
        raise FormatError(
            "time",
            "the time format is measured by the harness (perflab run), "
            "not parsed from a file; saved results use --format perflab",
            source=source,
        )
    if fmt == "go":
        from perflab.formats import go

        return go.parse(text, source)
    if data is _NO_DATA:
        from perflab.formats._json import load

        data = load(text, fmt, source)
    return _json_format(fmt).from_json(data, source)


def _detect(text: str, source: str | None) -> tuple[str, object]:
    stripped = text.lstrip()
    if not stripped:
        raise FormatError("auto", "empty input: no benchmark output to parse", source=source)
    if stripped[0] in "{[":
        return _detect_json(text, stripped, source)
    from perflab.formats import go

    if go.matches_text(text):
        return "go", _NO_DATA
    raise FormatError(
        "auto",
        f"not recognised as any known format (tried {_TRIED}); name one with --format",
        source=source,
    )


def _detect_json(text: str, stripped: str, source: str | None) -> tuple[str, object]:
    end = stripped.find("\n", 0, 65536)
    first_line = stripped[:end] if end >= 0 else stripped[:65536]
    if '"Action"' in first_line:
        from perflab.formats import go

        if go.is_event(first_line):
            return "go", _NO_DATA
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        sniffed = sniff_json(stripped[:4096])
        if sniffed:
            return sniffed, _NO_DATA
        raise FormatError(
            "auto", f"not valid JSON ({exc}) and not recognised (tried {_TRIED})", source=source
        ) from None
    for fmt in JSON_FORMATS:
        if _json_format(fmt).matches(data):
            return fmt, data
    raise FormatError(
        "auto", f"JSON of no known shape (tried {', '.join(JSON_FORMATS)})", source=source
    )


def _raise_if_other_format(error: FormatError, text: str, fmt: str, source: str | None) -> None:
    """A forced format that fails on another format's output says which one it looks like."""
    try:
        other = detect(text, source)
    except FormatError:
        return
    if other != fmt:
        raise FormatError(
            fmt,
            f"this is not {fmt} output, it looks like {other} output "
            f"(use --format {other} or auto)",
            source=source,
        ) from error
