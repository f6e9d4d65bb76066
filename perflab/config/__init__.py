"""perflab's settings, read in one place: the environment, ``$PERFLAB_HOME/config.yaml``,
the defaults.

Each setting has a value and a source: the environment (``PERFLAB_DB_URL`` ...) wins over
the file, the file over the default (the table is :mod:`perflab.config.definitions`).
``PERFLAB_HOME`` comes from the environment only: it says where the file is. The file is
read once per process (:func:`reset` forgets it) and checked whole
(:mod:`perflab.config.yamlfile`): a key that is not a setting, a value of the wrong kind,
anything but a small YAML mapping is an input error (exit 3) with ``file:line:col``. A
missing file is fine. docs/configuration.md describes the settings for users.

Also here: the home itself (created owner-only), and :func:`mask_url`, which every place
that shows a URL uses, so that no password is ever printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from perflab.config import yamlfile
from perflab.config.definitions import BY_NAME, SETTINGS, URLS, Setting, Sourced, Wrong
from perflab.errors import InputError, describe

__all__ = [
    "Settings",
    "Sourced",
    "broker_url",
    "config_file",
    "db_url",
    "ensure_home",
    "home",
    "mask_url",
    "private_file",
    "redact",
    "reset",
    "runs_dir",
    "settings",
    "ssh_config_file",
    "ssh_config_named",
    "tighten",
]

FILE_NAME = "config.yaml"
#: what perflab keeps in its home: a folder holding nothing else is perflab's to tighten
_OWN_ENTRIES = ("perflab", "known_hosts", ".known_hosts-", "runs", "logs", FILE_NAME)


@dataclass(frozen=True)
class Settings:
    """Every setting's effective value and source (docs/configuration.md says what each
    one does)."""

    home: Sourced[Path]  # PERFLAB_HOME (environment only), else XDG_DATA_HOME/perflab
    db_url: Sourced[str]  # the results store
    broker_url: Sourced[str]  # the queue's broker
    lock_wait: Sourced[float]  # seconds a command waits for a busy runner
    lease_ttl: Sourced[float]  # seconds a runner's lease lasts between heartbeats
    visibility_timeout: Sourced[float]  # seconds before Redis redelivers an unacked message
    file_max_bytes: Sourced[int]  # one run file stored in the database
    run_files_max_bytes: Sourced[int]  # all files of one run stored in the database
    ssh_config: Sourced[Path | None]  # an OpenSSH client config for SSH runners
    state_dir: Sourced[str | None]  # the local runner's state dir (None: /var/lib/perflab)
    prefix: Sourced[str]  # names of the cgroups perflab creates on the local runner
    matrix_max: Sourced[int]  # jobs a job matrix may expand into
    file: Path  # where config.yaml is looked for
    file_found: bool

    def items(self) -> list[tuple[str, Sourced[Any]]]:
        """``(name, setting)`` for every setting, the home first."""
        return [("home", self.home)] + [(s.name, getattr(self, s.name)) for s in SETTINGS]

    def shown(self) -> dict[str, dict[str, Any]]:
        """What ``config show`` prints: per setting its value as JSON (passwords masked,
        paths as text, whole seconds as integers), its source and its variable."""
        out = {}
        for name, item in self.items():
            value = item.value
            if name in URLS:
                value = mask_url(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            variable = BY_NAME[name].variable if name in BY_NAME else "PERFLAB_HOME"
            out[name] = {"value": value, "source": item.source, "variable": variable}
        return out


def settings() -> Settings:
    """The effective settings: the environment is read on every call, the file once."""
    home_setting = _home()
    path = home_setting.value / FILE_NAME
    from_file = _file_settings(path)
    values: dict[str, Sourced[Any]] = {}
    errors: list[InputError] = []
    for setting in SETTINGS:
        try:
            values[setting.name] = (
                _from_environment(setting)
                or (from_file or {}).get(setting.name)
                or Sourced(setting.default(home_setting.value), "default")
            )
        except InputError as exc:
            errors.append(exc)
    yamlfile.raise_all(errors)
    return Settings(home=home_setting, **values, file=path, file_found=from_file is not None)


def reset() -> None:
    """Forget the file read so far: the next :func:`settings` reads it again (tests)."""
    _file_settings.cache_clear()


@cache
def _file_settings(path: Path) -> dict[str, Sourced[Any]] | None:
    return yamlfile.read(path)


def _home() -> Sourced[Path]:
    configured = os.environ.get("PERFLAB_HOME")
    if configured:
        return Sourced(Path(configured).expanduser(), "environment PERFLAB_HOME")
    data = os.environ.get("XDG_DATA_HOME")
    if data:
        return Sourced(Path(data) / "perflab", "environment XDG_DATA_HOME")
    return Sourced(Path.home() / ".local" / "share" / "perflab", "default")


def _from_environment(setting: Setting) -> Sourced[Any] | None:
    """The setting's variable; empty or blank is as if it were not set."""
    text = os.environ.get(setting.variable, "").strip()
    if not text:
        return None
    try:
        value = setting.kind.read(text, False)
    except Wrong as wrong:
        raise InputError(
            f"expected {setting.kind.expected}, got {wrong.found or describe(text)}",
            field=setting.variable,
        ) from None
    return Sourced(value, f"environment {setting.variable}")


# -- where perflab keeps things ---------------------------------------------------------


def home() -> Path:
    """``$PERFLAB_HOME``, default ``~/.local/share/perflab`` (created on demand); never
    reads the file, so that it works whatever the file holds."""
    return _home().value


def config_file() -> Path:
    """Where the config file is looked for: ``$PERFLAB_HOME/config.yaml``."""
    return home() / FILE_NAME


def ensure_home() -> Path:
    """``$PERFLAB_HOME``, created owner-only (0700).

    A home left with a looser mode by an older perflab is tightened, silently,
    when it is yours and holds only perflab's files; a folder shared with other
    things (``$HOME``, ``/var/lib`` ...) keeps its mode, and the files perflab
    keeps there are owner-only anyway.
    """
    path = home()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if all(entry.name.startswith(_OWN_ENTRIES) for entry in path.iterdir()):
        tighten(path, 0o700)
    return path


def tighten(path: Path, mode: int) -> None:
    """Take group and others' access away from ``path`` if it is yours and has any."""
    info = path.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o077:
        path.chmod(mode)


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it is missing, else :func:`tighten` it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        tighten(path, 0o600)


def runs_dir() -> Path:
    """Raw outputs, logs and artifacts of each run: ``$PERFLAB_HOME/runs/<run id>/``."""
    return home() / "runs"


def db_url() -> str:
    """The results store: ``db_url``, default the SQLite file under ``$PERFLAB_HOME``."""
    return settings().db_url.value


def broker_url() -> str:
    """The queue's broker: ``broker_url``, default ``redis://127.0.0.1:6379/0``."""
    return settings().broker_url.value


# -- what may be shown ------------------------------------------------------------------

#: a query parameter whose name says it holds a secret (password=, sslpassword=, token=)
_SECRET_PARAMETER = re.compile(r"([?&][^=&#]*(?:pass|secret|token)[^=&#]*=)[^&#]*", re.I)


def mask_url(url: str) -> str:
    """``url`` with its password shown as ``***``: ``postgresql://lab:***@db/perflab``,
    ``redis://:***@queue:6379/0``, ``...?password=***``. The user info ends at the last
    ``@`` (a password may hold ``@`` or ``/``), so a password is never half shown."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    at = rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        rest = rest[:at].split(":", 1)[0] + ":***" + rest[at:]
    return scheme + separator + _SECRET_PARAMETER.sub(r"\1***", rest)


#: the name the queue's code (perflab/queue/submit.py on main) imports
redact = mask_url


_named_ssh_config: list[Path] = []  # `perflab -F FILE`, for the command that is running


def ssh_config_file() -> Path | None:
    """The SSH config file named by ``perflab -F`` or the ``ssh_config`` setting
    (``PERFLAB_SSH_CONFIG`` or config.yaml; then ssh reads no other), or None:
    ``~/.ssh/config`` and ``/etc/ssh/ssh_config``, as ssh reads them."""
    if _named_ssh_config:
        return _named_ssh_config[-1]
    named = settings().ssh_config.value
    return Path(named).expanduser() if named else None


@contextmanager
def ssh_config_named(path: Path) -> Iterator[None]:
    """Use the SSH config file ``path`` (``perflab -F``) inside the block."""
    _named_ssh_config.append(path.expanduser())
    try:
        yield
    finally:
        _named_ssh_config.pop()
