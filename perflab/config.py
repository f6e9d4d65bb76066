"""Where perflab keeps things: ``$PERFLAB_HOME`` and the settings read from the environment."""

from __future__ import annotations

import os
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


def redact(url: str) -> str:
    """A URL with its password masked: ``redis://:***@queue:6379/0``."""
    import re

    return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)
