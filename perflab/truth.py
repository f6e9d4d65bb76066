"""Ansible's notion of a boolean, for every place perflab reads one from an inventory."""

from __future__ import annotations

from typing import Any

from perflab.errors import describe

TRUE = frozenset({"yes", "true", "on", "1", "y", "t"})
FALSE = frozenset({"no", "false", "off", "0", "n", "f"})


def boolean(value: Any) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case); anything else is a ValueError."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"expected true or false, got {describe(value)}")
