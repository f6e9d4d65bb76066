"""Durations and percentages as job files write them ("500ms", "2m", "5%", 0.05)."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ns|us|µs|ms|s|m|h)\s*$")
_SCALE = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(value: float | int | str | None) -> float | None:
    """A duration in seconds: numbers are seconds, strings carry a unit."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f'expected a duration like "500ms" or "2m", got "{value}"')
    return float(match.group(1)) * _SCALE[match.group(2)]


def fraction(value: float | int | str | None) -> float | None:
    """``"5%"`` -> 0.05; numbers are fractions already."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise ValueError(f'expected a percentage like "5%", got "{value}"')
        return float(text[:-1]) / 100.0
    return float(value)
