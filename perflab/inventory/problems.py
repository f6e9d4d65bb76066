"""Collect every problem found while reading an inventory, then decide once.

``validate_inventory`` wants all problems (file:line:col each); ``load_inventory``
wants to refuse the whole inventory if there is any. Parsers therefore never
raise for a user's mistake: they record it here and carry on where they can.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from perflab.errors import InputError, Location, SpecErrors


@dataclass
class Problems:
    """Errors (the inventory is refused) and warnings (it is read, with a note)."""

    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(
        self,
        message: str,
        where: Location | None,
        *,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        """Record one error; an identical error at the same place is kept once."""
        new = InputError(message, location=where, field=field, hint=hint)
        if all(str(old) != str(new) for old in self.errors):
            self.errors.append(new)

    def add(self, error: InputError) -> None:
        """Record an error raised by a helper (YAML loading, file reading)."""
        if isinstance(error, SpecErrors):
            self.errors.extend(error.errors)
        elif all(str(old) != str(error) for old in self.errors):
            self.errors.append(error)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def raise_if_any(self) -> None:
        """Raise the one error, or all of them together, if there is any."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise SpecErrors(list(self.errors))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'hosts'?)"`` when ``word`` is close to one of ``choices``."""
    close = difflib.get_close_matches(word, [c for c in choices if c != word], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
