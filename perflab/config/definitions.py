"""The settings perflab has: each one's name (its key in the file), variable, kind of value
and default; and the kinds, which check a value from either place."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")
MiB = 1024 * 1024


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A setting's value and where it came from: ``environment PERFLAB_DB_URL``,
    ``/home/lab/.local/share/perflab/config.yaml:3`` or ``default``."""

    value: T
    source: str


class Wrong(ValueError):
    """A value its setting does not take; ``found`` describes it when repeating it would
    not do (a URL may hold a password)."""

    def __init__(self, found: str | None = None) -> None:
        super().__init__(found)
        self.found = found


@dataclass(frozen=True)
class Kind:
    """What a setting takes: ``read(raw, in_file)`` turns a variable's text or the file's
    YAML value into the setting's value, or raises :class:`Wrong`."""

    expected: str
    read: Callable[[object, bool], Any]


def _number(raw: object, in_file: bool, convert: Callable[[str], float]) -> float:
    """A number from the file's YAML, or from a variable's text."""
    if isinstance(raw, str) and not in_file:
        try:
            return convert(raw)
        except ValueError:
            raise Wrong() from None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise Wrong()
    return raw


def _seconds(positive: bool) -> Kind:
    def read(raw: object, in_file: bool) -> float:
        number = float(_number(raw, in_file, float))
        if not math.isfinite(number) or number < 0 or (positive and number == 0):
            raise Wrong()
        return number

    return Kind(f"a number of seconds {'> 0' if positive else '>= 0'}", read)


def _read_bytes(raw: object, in_file: bool) -> int:
    number = _number(raw, in_file, int)
    if not isinstance(number, int) or number <= 0:
        raise Wrong()
    return number


def _url(example: str) -> Kind:
    def read(raw: object, in_file: bool) -> str:
        if not isinstance(raw, str):
            raise Wrong()
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", raw):
            raise Wrong('text with no "scheme://"')
        return raw

    return Kind(f"a URL like {example}", read)


def _read_text(raw: object, in_file: bool) -> str:
    if not isinstance(raw, str) or not raw:
        raise Wrong()
    return raw


def _read_path(raw: object, in_file: bool) -> str:
    """A path, ``~`` expanded; in the file an absolute one (relative to what, otherwise?)."""
    path = Path(_read_text(raw, in_file)).expanduser()
    if in_file and not path.is_absolute():
        raise Wrong()
    return str(path)


SECONDS, POSITIVE_SECONDS = _seconds(positive=False), _seconds(positive=True)
BYTES = Kind("a whole number of bytes > 0", _read_bytes)
COUNT = Kind("a whole number > 0", _read_bytes)
TEXT = Kind("text", _read_text)
PATH = Kind("an absolute path (or one starting with ~)", _read_path)
FILE_PATH = Kind(PATH.expected, lambda raw, in_file: Path(_read_path(raw, in_file)))


@dataclass(frozen=True)
class Setting:
    """One setting: its name (a key of the file), its variable, its kind, its default
    (computed from the home)."""

    name: str
    variable: str
    kind: Kind
    default: Callable[[Path], Any]


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db_url",
        "PERFLAB_DB_URL",
        _url("postgresql://user@host/db"),
        lambda home: f"sqlite:///{home / 'perflab.db'}",
    ),
    Setting(
        "broker_url",
        "PERFLAB_BROKER_URL",
        _url("redis://host:6379/0"),
        lambda home: "redis://127.0.0.1:6379/0",
    ),
    Setting("lock_wait", "PERFLAB_LOCK_WAIT", SECONDS, lambda home: 0.0),
    Setting("lease_ttl", "PERFLAB_LEASE_TTL", POSITIVE_SECONDS, lambda home: 60.0),
    Setting(
        "visibility_timeout", "PERFLAB_VISIBILITY_TIMEOUT", POSITIVE_SECONDS, lambda home: 3600.0
    ),
    Setting("file_max_bytes", "PERFLAB_FILE_MAX_BYTES", BYTES, lambda home: 64 * MiB),
    Setting("run_files_max_bytes", "PERFLAB_RUN_FILES_MAX_BYTES", BYTES, lambda home: 512 * MiB),
    Setting("ssh_config", "PERFLAB_SSH_CONFIG", FILE_PATH, lambda home: None),
    Setting("state_dir", "PERFLAB_STATE_DIR", PATH, lambda home: None),
    Setting("prefix", "PERFLAB_PREFIX", TEXT, lambda home: "perflab"),
    Setting("matrix_max", "PERFLAB_MATRIX_MAX", COUNT, lambda home: 64),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}
#: settings whose values are URLs: shown only through mask_url
URLS = frozenset({"db_url", "broker_url"})
