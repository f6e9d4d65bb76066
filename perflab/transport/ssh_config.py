"""OpenSSH client configuration, read the way ``ssh`` reads it.

Which files: the one ``perflab -F FILE`` or ``$PERFLAB_SSH_CONFIG`` names (then
no other, as ``ssh -F``), else ``~/.ssh/config`` and then ``/etc/ssh/ssh_config``
(missing files are skipped). Parsing and lookup are paramiko's (``Host``
patterns and negations, ``Match``, the first value obtained wins, tokens such
as ``%h`` and ``~``); this module adds what paramiko leaves out:

- ``Include`` (globs, sorted; relative paths are taken from ``~/.ssh``, or from
  ``/etc/ssh`` in the system file), inlined where the directive stands;
- errors that name the file and line (exit status 3): a line paramiko cannot
  parse, a bad ``Match``, and values perflab uses that ssh would refuse too
  (``Port``, ``ConnectTimeout``, ``ServerAliveInterval``, ``ProxyJump``);
- ``ProxyCommand`` keeps its ``%h``, ``%p``, ``%r`` tokens, to be expanded with the
  port and user that finally apply (an inventory's ``ansible_port`` included).

A loaded file set is cached per process (keyed by the files' paths, sizes and
modification times): 50 runners share one parse.
"""

from __future__ import annotations

import glob
import re
import shlex
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import paramiko

from perflab.errors import InputError, Location

SYSTEM_CONFIG = Path("/etc/ssh/ssh_config")
_SETTING = re.compile(r"(\w+)(?:\s*=\s*|\s+)(.+)")
_HOP = re.compile(r"^(?:ssh://)?(?:[^@\s]+@)?(?:\[[^\]\s]+\]|[^:@\s\[\]]+)(?::\d+)?$")
_TIME = re.compile(r"(\d+)([smhdwSMHDW]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_INCLUDE_DEPTH = 16  # as OpenSSH
_MATCH = frozenset(
    {
        "all",
        "canonical",
        "final",
        "exec",
        "localnetwork",
        "host",
        "originalhost",
        "tagged",
        "command",
        "user",
        "localuser",
        "version",
        "sessiontype",
    }
)


def user_config() -> Path:
    return Path.home() / ".ssh" / "config"


def parse_time(text: str) -> int | None:
    """OpenSSH's time format (``30``, ``30s``, ``1m30s``) in seconds, None if not one."""
    text = text.strip()
    if not text or _TIME.sub("", text):
        return None
    return sum(int(n) * _UNITS[unit.lower()] for n, unit in _TIME.findall(text))


class _Parser(paramiko.SSHConfig):
    """paramiko's parser, leaving ``ProxyCommand`` tokens for the caller to expand."""

    TOKENS_BY_CONFIG_KEY = {  # noqa: RUF012 - paramiko's own table, one entry changed
        **paramiko.SSHConfig.TOKENS_BY_CONFIG_KEY,
        "proxycommand": ["~"],
    }


@dataclass(frozen=True)
class SSHConfigFiles:
    """The parsed configuration of some files (possibly none): look hosts up in it."""

    files: tuple[Path, ...]
    parsed: paramiko.SSHConfig

    def lookup(self, host: str) -> dict[str, Any]:
        """What the files say for ``host`` (keys in lower case; ``hostname`` always set)."""
        try:
            return dict(self.parsed.lookup(host))
        except ImportError as exc:  # `Match exec` without invoke (paramiko's optional helper)
            raise InputError(
                f"ssh config ({', '.join(map(str, self.files))}): `Match exec` "
                f"cannot be evaluated here: {exc}"
            ) from None
        except (paramiko.ConfigParseError, ValueError) as exc:
            raise InputError(
                f"ssh config ({', '.join(map(str, self.files))}), looking up {host!r}: {exc}"
            ) from None


NO_CONFIG = SSHConfigFiles((), _Parser())
_cache: dict[tuple[Any, ...], SSHConfigFiles] = {}
_cache_lock = threading.Lock()


def config_files(explicit: Path | None) -> tuple[list[Path], bool]:
    """(files to read, whether they were named): ``explicit`` alone, else the user's
    and the system's file."""
    if explicit is not None:
        return [explicit], True
    return [user_config(), SYSTEM_CONFIG], False


def load_ssh_config(explicit: Path | None = None) -> SSHConfigFiles:
    """The configuration ``ssh`` would use (see the module's docstring); cached."""
    files, named = config_files(explicit)
    if named and not files[0].is_file():
        raise InputError(
            f"ssh config file {files[0]} does not exist", field="-F / PERFLAB_SSH_CONFIG"
        )
    present = [f for f in files if f.is_file()]
    key = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in present)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    loaded = parse_files(present)
    with _cache_lock:
        _cache[key] = loaded
    return loaded


def parse_files(files: Sequence[Path]) -> SSHConfigFiles:
    """Parse ``files`` in order, as one configuration; InputError at file:line when a line
    is wrong."""
    parser = _Parser()
    for path in files:
        base = SYSTEM_CONFIG.parent if path == SYSTEM_CONFIG else user_config().parent
        reader = _Lines(base)
        try:
            # paramiko only iterates over its argument: lines, checked and counted on the way
            parser.parse(cast("IO[str]", reader.lines(path, 0, None)))
        except paramiko.ConfigParseError as exc:
            raise InputError(f"ssh config: {exc}", location=reader.where) from None
    return SSHConfigFiles(tuple(files), parser)


class _Lines:
    """The lines of a config file with its includes inlined, checked on the way; ``where``
    is the line last read (for paramiko's own errors)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.where = Location("ssh config")

    def lines(self, path: Path, depth: int, origin: Location | None) -> Iterator[str]:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(
                f"cannot read ssh config file {path}: {exc.strerror}", location=origin
            ) from None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            self.where = Location(str(path), number, len(raw) - len(raw.lstrip()) + 1)
            if not line or line.startswith("#"):
                continue
            match = _SETTING.match(line)
            if match and match[1].lower() == "include":
                yield from self._include(match[2], depth, self.where)
                continue
            if match:
                check_setting(match[1].lower(), _unquote(match[2].strip()), self.where)
            yield line

    def _include(self, value: str, depth: int, where: Location) -> Iterator[str]:
        if depth >= MAX_INCLUDE_DEPTH:
            raise InputError(
                f"Include nested more than {MAX_INCLUDE_DEPTH} deep (does a file include itself?)",
                location=where,
                field="Include",
            )
        for pattern in value.split():
            expanded = Path(_unquote(pattern)).expanduser()
            full = expanded if expanded.is_absolute() else self.base / expanded
            # glob.glob: the pattern may have wildcards in any part, directories included
            for name in sorted(glob.glob(str(full))):  # noqa: PTH207
                if Path(name).is_file():
                    yield from self.lines(Path(name), depth + 1, where)


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def check_setting(key: str, value: str, where: Location) -> None:
    """InputError for a value perflab uses that ssh would refuse too."""
    problem = None
    if key == "port" and not (value.isdigit() and 1 <= int(value) <= 65535):
        problem = f"Port must be a number from 1 to 65535, got {value!r}"
    elif (
        key in ("connecttimeout", "serveraliveinterval")
        and value.lower() != "none"
        and parse_time(value) is None
    ):
        name = "ConnectTimeout" if key == "connecttimeout" else "ServerAliveInterval"
        problem = f"{name} must be a time in seconds (like 10 or 1m30s), got {value!r}"
    elif key == "match":
        problem = _match_problem(value)
    elif key == "proxyjump" and value.lower() != "none":
        bad = [hop for hop in value.split(",") if not _HOP.match(hop.strip())]
        if bad:
            problem = f"ProxyJump hops must be [user@]host[:port], got {bad[0].strip()!r}"
    if problem:
        raise InputError(problem, location=where)


def _match_problem(value: str) -> str | None:
    """Match criteria ssh does not know (paramiko would silently never match them)."""
    try:
        words = shlex.split(value)
    except ValueError as exc:
        return f"Match: {exc}"
    while words:
        criterion = words.pop(0).lstrip("!").lower()
        if criterion not in _MATCH:
            return f"Match criterion {criterion!r} is not one ssh knows"
        if criterion not in ("all", "canonical", "final") and words:
            words.pop(0)
    return None
