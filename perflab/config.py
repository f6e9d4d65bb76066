"""Where perflab keeps things: ``$PERFLAB_HOME`` and the settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """``$PERFLAB_HOME``, default ``~/.local/share/perflab`` (created on demand)."""
    configured = os.environ.get("PERFLAB_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "perflab"


def ensure_home() -> Path:
    path = home()
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_url() -> str:
    """``$PERFLAB_DB_URL`` or the embedded SQLite file under ``$PERFLAB_HOME``."""
    return os.environ.get("PERFLAB_DB_URL") or f"sqlite:///{home() / 'perflab.db'}"


def runs_dir() -> Path:
    """Raw outputs, logs and artifacts of each run: ``$PERFLAB_HOME/runs/<run id>/``."""
    return home() / "runs"


def broker_url() -> str:
    return os.environ.get("PERFLAB_BROKER_URL") or "redis://127.0.0.1:6379/0"
