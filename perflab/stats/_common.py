"""Shared pieces of the statistics package: types, input checks, JSON helpers.

Nothing here does I/O. Every public result of :mod:`perflab.stats` is a frozen
dataclass with ``to_dict()`` returning JSON-ready data (non-finite floats become
``None``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from perflab.errors import InputError
from perflab.model import TIME_UNITS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

Direction = Literal["lower", "higher"]
Verdict = Literal["regressed", "improved", "same", "unknown", "not_comparable"]
VERDICTS: tuple[Verdict, ...] = ("regressed", "improved", "same", "unknown", "not_comparable")

Samples = Sequence[float] | FloatArray

# Band edges are compared on the log scale with this slack, so that a ratio that
# sits exactly on an edge is decided the same way after swapping or rescaling.
EDGE_TOLERANCE = 1e-9


class StatsInputError(InputError, ValueError):
    """Samples or settings the statistics cannot work with (exit status 3 if it escapes)."""


def is_time_unit(unit: str | None) -> bool:
    """True for units of time (ns, us, µs, ms, s): their samples cannot be negative."""
    return unit is not None and (unit in TIME_UNITS or unit == "µs")


def as_array(samples: Samples) -> FloatArray | None:
    """The samples as a 1-D float array, or None if they are not numbers."""
    try:
        values = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return values.reshape(-1) if values.ndim <= 1 else None


def sample_problem(
    samples: Samples, unit: str | None = None, *, positive: bool = True
) -> str | None:
    """Why these samples cannot enter a ratio comparison, or None when they can.

    Empty, non-numeric, NaN, infinite and negative values are refused with a
    sentence naming what was found and where (1-based repetition numbers).
    """
    values = as_array(samples)
    if values is None:
        return "samples are not a list of numbers"
    if values.size == 0:
        return "no samples"
    for test, what in ((np.isnan, "NaN"), (np.isinf, "infinite")):
        bad = np.flatnonzero(test(values))
        if bad.size:
            return f"{bad.size} sample(s) are {what} (repetition {_where(bad)})"
    bad = np.flatnonzero(values < 0)
    if bad.size and (positive or is_time_unit(unit)):
        kind = "negative time" if is_time_unit(unit) else "negative value"
        return (
            f"{bad.size} {kind}(s), e.g. {values[bad[0]]:g} at repetition {bad[0] + 1}; "
            "a ratio of medians needs positive values"
        )
    return None


def _where(indices: IntArray) -> str:
    shown = ", ".join(str(int(i) + 1) for i in indices[:5])
    return shown + (", ..." if indices.size > 5 else "")


def check_direction(direction: str) -> str | None:
    """None if ``direction`` is valid, else the problem as a sentence."""
    if direction in ("lower", "higher"):
        return None
    return f'direction must be "lower" or "higher", got {direction!r}'


def check_fraction(
    name: str, value: float, *, low: float = 0.0, high: float = 1.0, open_low: bool = False
) -> None:
    """Raise StatsInputError unless ``low <(=) value < high``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and value < high
    if not ok:
        bound = f"{'>' if open_low else '>='} {low:g} and < {high:g}"
        raise StatsInputError(f"expected a number {bound}, got {value!r}", field=name)


def check_count(name: str, value: int, least: int = 0) -> None:
    """Raise StatsInputError unless ``value`` is an integer >= ``least`` (bools refused)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise StatsInputError(f"expected an integer >= {least}, got {value!r}", field=name)


def jf(value: float | None) -> float | None:
    """A JSON-safe float: NaN and infinities become None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def jpair(pair: tuple[float, float] | None) -> list[float | None] | None:
    """A JSON-safe interval."""
    return None if pair is None else [jf(pair[0]), jf(pair[1])]


def jdict(data: dict[str, Any]) -> dict[str, Any]:
    """Make the floats in a flat evidence mapping JSON-safe."""
    return {k: jf(v) if isinstance(v, float) else v for k, v in data.items()}


def exp(x: float) -> float:
    """math.exp that saturates to inf instead of raising OverflowError."""
    return math.exp(x) if x < 709.0 else math.inf


def expm1(x: float) -> float:
    """math.expm1 that saturates to inf instead of raising OverflowError."""
    return math.expm1(x) if x < 709.0 else math.inf


def fmt_pct(change: float, digits: int = 1) -> str:
    """``0.0312`` -> ``"+3.1%"``."""
    if not math.isfinite(change):
        return "unbounded"
    return f"{change * 100:+.{digits}f}%"
