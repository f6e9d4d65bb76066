"""Parsing gate thresholds: fractions ("10%", 0.1) and quantities with units ("200us").

Pure functions; errors are :class:`GateSpecError` (an InputError, exit status 3)
naming the field, what was expected and what was found.
"""

from __future__ import annotations

import math
import re

from perflab.errors import describe
from perflab.model import unit_factor
from perflab.stats._common import StatsInputError

_FRACTION = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*%\s*$")
_QUANTITY = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*([A-Za-zµ/%]+)?\s*$")
_ALIASES = {"µs": "us", "μs": "us", "sec": "s", "msec": "ms", "usec": "us", "nsec": "ns"}


class GateSpecError(StatsInputError):
    """A gate in a job file that cannot be evaluated (bad threshold, unit or stat)."""


def parse_fraction(value: object, field: str = "max_increase") -> float:
    """``"10%"`` or ``0.1`` -> 0.1. Numbers are fractions; strings need a % sign."""
    if isinstance(value, bool):
        raise GateSpecError(
            f'expected a percentage like "10%" or a fraction like 0.1, got {describe(value)}',
            field=field,
        )
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := _FRACTION.match(value)):
        number = float(match.group(1)) / 100.0
    else:
        raise GateSpecError(
            f'expected a percentage like "10%" or a fraction like 0.1, got {describe(value)}',
            field=field,
        )
    if not math.isfinite(number) or number < 0:
        raise GateSpecError(f"expected a non-negative fraction, got {describe(value)}", field=field)
    return number


def normalize_unit(unit: str) -> str:
    """Spelling variants of a unit (µs, usec) -> perflab's spelling (us)."""
    return _ALIASES.get(unit, unit)


def parse_quantity(value: object, unit: str | None, field: str = "max") -> float:
    """A threshold in the metric's ``unit``: ``"200us"`` with unit ``"ns"`` -> 200000.0.

    A bare number (or a string without unit) is already in the metric's unit.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise GateSpecError(
            f'expected a number or a value with a unit like "200us", got {describe(value)}',
            field=field,
        )
    if not isinstance(value, str):
        return _finite(float(value), value, field)
    match = _QUANTITY.match(value)
    if not match:
        raise GateSpecError(
            f'expected a number or a value with a unit like "200us", got {describe(value)}',
            field=field,
        )
    number = _finite(float(match.group(1)), value, field)
    given = match.group(2)
    if given is None:
        return number
    # 12 significant digits: 200us in ns is 200000, not 199999.99999999997
    return float(f"{number * _factor(normalize_unit(given), unit, value, field):.12g}")


def _finite(number: float, raw: object, field: str) -> float:
    if not math.isfinite(number):
        raise GateSpecError(f"expected a finite number, got {describe(raw)}", field=field)
    return number


def _factor(given: str, unit: str | None, raw: object, field: str) -> float:
    if given == "%":
        raise GateSpecError(
            f"a percentage is a relative limit: use max_increase or "
            f"max_decrease, got {describe(raw)}",
            field=field,
        )
    if unit is None:
        raise GateSpecError(
            f"the metric has no unit, so {describe(raw)} cannot be converted; give a plain number",
            field=field,
        )
    factor = unit_factor(given, normalize_unit(unit))
    if factor is None:
        raise GateSpecError(
            f"unit {given!r} cannot be converted to the metric's unit "
            f"{unit!r} (got {describe(raw)})",
            field=field,
        )
    return factor
