"""Exceptions that the command line turns into one line and an exit status.

Every expected failure is a :class:`PerflabError` subclass carrying its exit
status. Input problems (exit 3) say *where* (file:line:col), *which field*,
what was expected and what was found, so the user can fix them without
reading a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    REGRESSION = 2  # a regression, or an untuned / contended host
    INVALID_INPUT = 3
    UNMEASURED = 4  # nothing regressed, but a comparison could not be measured (flags decided)
    INTERRUPTED = 130


@dataclass(frozen=True)
class Location:
    """A place in a user's file; line and column are 1-based."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class PerflabError(Exception):
    """An expected failure: printed as one line, never as a traceback."""

    exit_status: ExitStatus = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(PerflabError):
    """Bad input from the user: a file, an argument, a setting. Exit status 3."""

    exit_status = ExitStatus.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.location = location
        self.field = field

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location is not None else ""
        field = f"{self.field}: " if self.field else ""
        return f"{prefix}{field}{self.message}"


class SpecErrors(InputError):
    """Several problems found in one or more files; each is an InputError."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class FormatError(InputError):
    """Benchmark output that does not match the format it was parsed as.

    ``where`` is a line number ("line 12") or a JSON path ("$.benchmarks[3].real_time").
    """

    def __init__(
        self, fmt: str, message: str, *, source: str | None = None, where: str | None = None
    ) -> None:
        place = ", ".join(p for p in (source, where) if p)
        super().__init__(f"{fmt} output{f' ({place})' if place else ''}: {message}")
        self.format = fmt
        self.source = source
        self.where = where


class HostError(PerflabError):
    """A runner could not be reached or a command on it failed. Exit status 1."""

    def __init__(self, host: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{host}: {message}", hint=hint)
        self.host = host


class Unreachable(HostError):
    """A runner that cannot be reached: no connection, or the connection was lost."""


class RegressionFound(PerflabError):
    """A gate failed or a host was found untuned. Exit status 2."""

    exit_status = ExitStatus.REGRESSION


def describe(value: object) -> str:
    """Render a found value for an error message: strings quoted, long values cut."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    if isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = "a list"
    elif value is None:
        text = "nothing (null)"
    return text if len(text) <= 60 else text[:57] + "..."
