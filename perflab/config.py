"""Where perflab keeps things: ``$PERFLAB_HOME`` and the settings read from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: what perflab keeps in its home: a folder holding nothing else is perflab's to tighten
_OWN_ENTRIES = ("perflab", "known_hosts", ".known_hosts-", "runs", "logs")


def home() -> Path:
    """``$PERFLAB_HOME``, default ``~/.local/share/perflab`` (created on demand)."""
    configured = os.environ.get("PERFLAB_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "perflab"


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


def db_url() -> str:
    """``$PERFLAB_DB_URL`` or the embedded SQLite file under ``$PERFLAB_HOME``."""
    return os.environ.get("PERFLAB_DB_URL") or f"sqlite:///{home() / 'perflab.db'}"


def runs_dir() -> Path:
    """Raw outputs, logs and artifacts of each run: ``$PERFLAB_HOME/runs/<run id>/``."""
    return home() / "runs"


def broker_url() -> str:
    return os.environ.get("PERFLAB_BROKER_URL") or "redis://127.0.0.1:6379/0"


_named_ssh_config: list[Path] = []  # `perflab -F FILE`, for the command that is running


def ssh_config_file() -> Path | None:
    """The SSH config file named by ``perflab -F`` or ``$PERFLAB_SSH_CONFIG`` (then ssh reads
    no other), or None: ``~/.ssh/config`` and ``/etc/ssh/ssh_config``, as ssh reads them."""
    if _named_ssh_config:
        return _named_ssh_config[-1]
    named = os.environ.get("PERFLAB_SSH_CONFIG")
    return Path(named).expanduser() if named else None


@contextmanager
def ssh_config_named(path: Path) -> Iterator[None]:
    """Use the SSH config file ``path`` (``perflab -F``) inside the block."""
    _named_ssh_config.append(path.expanduser())
    try:
        yield
    finally:
        _named_ssh_config.pop()
