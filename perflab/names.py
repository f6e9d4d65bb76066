"""Names that must match something: gate metrics, waiver globs, ``--metric`` patterns.

A gate or waiver that matches no metric checks nothing, silently; so each one must match,
and when it does not, the error says what exists and which name was probably meant
("time" -> "wall_time"). Pure: the callers say what exists (the names a format declares, or
the benchmarks and metrics present in runs) and where a field stands in the user's file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from perflab.errors import InputError, Location

Where = Callable[[str], Location | None]
LISTED = 8  # names listed in a message before "... (+N more)"


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """The choice ``name`` most likely meant, or None when none is close.

    Case-insensitive equality first, then the first choice that has every word of ``name``
    (choices come primary first, so "time" means "wall_time", not "sys_time"), then the
    closest spelling. A glob is compared by its literal part.
    """
    options = list(dict.fromkeys(choices))
    literal = re.sub(r"[*?\[\]]", "", name)
    by_case = {option.lower(): option for option in options}
    if literal.lower() in by_case:
        return by_case[literal.lower()]
    words = set(_words(literal))
    for option in options:
        if words and words <= set(_words(option)):
            return option
    close = difflib.get_close_matches(literal, options, n=1, cutoff=0.6)
    return close[0] if close else None


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s_./:-]+", name.lower()) if w]


def listing(choices: Iterable[str]) -> str:
    """``wall_time, max_rss`` (the first few names, then how many more)."""
    names = list(dict.fromkeys(choices))
    more = f" ... (+{len(names) - LISTED} more)" if len(names) > LISTED else ""
    return ", ".join(names[:LISTED]) + more if names else "none"


def unmatched(
    what: str,
    found: str,
    choices: Sequence[str],
    *,
    field: str,
    location: Location | None = None,
    after: str = "",
) -> InputError:
    """``field: expected {what} (a, b), got "found" (did you mean "a"?){after}``."""
    close = suggest(found, choices)
    hint = f' (did you mean "{close}"?)' if close else ""
    return InputError(
        f'expected {what} ({listing(choices)}), got "{found}"{hint}{after}',
        location=location,
        field=field,
    )


def gate_errors(
    gates: Sequence[Mapping[str, Any]],
    present: Sequence[tuple[str, str]],
    *,
    what: str,
    where: Where | None = None,
) -> list[InputError]:
    """Gates that select no (benchmark, metric) of ``present``; ``what`` says whose names
    these are ("of this run"), ``where`` places a field (``gates[0].metric``) in the file."""
    errors = []
    for index, gate in enumerate(gates):
        error = _gate_error(f"gates[{index}]", gate, present, what, where or _nowhere)
        if error is not None:
            errors.append(error)
    return errors


def _gate_error(
    field: str, gate: Mapping[str, Any], present: Sequence[tuple[str, str]], what: str, where: Where
) -> InputError | None:
    pattern = gate.get("benchmark")
    benches = [b for b, _ in present if pattern is None or fnmatchcase(b, pattern)]
    if not benches:
        return unmatched(
            f"a benchmark {what}",
            str(pattern),
            [b for b, _ in present],
            field=f"{field}.benchmark",
            location=where(f"{field}.benchmark"),
        )
    metrics = [m for b, m in present if b in benches]
    if gate.get("metric") in metrics:
        return None
    return unmatched(
        f"a metric {what}",
        str(gate.get("metric")),
        metrics,
        field=f"{field}.metric",
        location=where(f"{field}.metric"),
    )


def waiver_errors(
    waivers: Sequence[Mapping[str, Any]], present: Sequence[tuple[str, str]], *, what: str
) -> list[InputError]:
    """Waivers whose benchmark or metric glob selects nothing of ``present``."""
    errors = []
    for waiver in waivers:
        revoke = f"; revoke it with `perflab baseline revoke {waiver['id']}`"
        benches = [b for b, _ in present if fnmatchcase(b, waiver["benchmark"])]
        metrics = [m for b, m in present if b in benches]
        if not benches:
            errors.append(
                unmatched(
                    f"a benchmark {what}",
                    waiver["benchmark"],
                    [b for b, _ in present],
                    after=revoke,
                    field=f"waiver {waiver['id']} --benchmark",
                )
            )
        elif not any(fnmatchcase(m, waiver["metric"]) for m in metrics):
            errors.append(
                unmatched(
                    f"a metric {what}",
                    waiver["metric"],
                    metrics,
                    after=revoke,
                    field=f"waiver {waiver['id']} --metric",
                )
            )
    return errors


def unmatched_patterns(
    patterns: Iterable[str], names: Sequence[str], *, field: str, what: str
) -> list[InputError]:
    """Each glob of ``patterns`` (``--metric`` ...) that matches none of ``names``."""
    return [
        unmatched(what, pattern, names, field=field)
        for pattern in patterns
        if not any(fnmatchcase(name, pattern) for name in names)
    ]


def _nowhere(field: str) -> Location | None:
    return None
