"""A queued job's states, without the store's imports (the CLI's options and help
name them: `perflab --help` must not import SQLAlchemy)."""

from __future__ import annotations

ACTIVE = ("leased", "preparing", "running", "collecting")  # a worker holds the job
STATES = ("queued", *ACTIVE, "done", "failed", "cancelled")
FINAL = ("done", "failed", "cancelled")
