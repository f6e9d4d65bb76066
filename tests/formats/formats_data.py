"""Paths of the real benchmark outputs under tests/data/formats/ (see regenerate.sh there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "formats"
CRITERION = DATA / "criterion" / "target" / "criterion"


def load_json(relative: str) -> Any:
    """The decoded JSON of a data file (the independent reading tests compare against)."""
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


def read_text(relative: str) -> str:
    """The text of a data file."""
    return (DATA / relative).read_text(encoding="utf-8")
