"""Host patterns as Ansible reads them: ``name[:port]`` with ``[begin:end(:step)]`` ranges.

``epyc-[01:04]`` is epyc-01 ... epyc-04 (a leading zero fixes the width, so both
ends must have it), ``db[a:c]`` is dba, dbb, dbc, ``x[1:10:3]`` is x1, x4, x7,
x10, ``y[:2]`` starts at 0, and several ranges multiply
(``r[1:2]-[a:b]`` is four hosts). A trailing ``:2222`` sets ``ansible_port``
for every host of the pattern; an IPv6 address takes a port only in brackets
(``[::1]:2222``).

Ansible quietly makes no host at all of ``h[5:1]`` and reads ``[ab:cd]`` as
``[a:c]``; perflab calls both malformed.
"""

from __future__ import annotations

import ipaddress
import re
import string

_PORT_SUFFIX = re.compile(r"(?P<rest>.*):(?P<port>[0-9]+)")
_ANY_RANGE = re.compile(r"\[[0-9A-Za-z]+:[0-9A-Za-z]+(?::[0-9]+)?\]")
_NAME_RANGE = re.compile(r"\[(?:[A-Za-z]:[A-Za-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]")
_LABEL = re.compile(r"\w[\w-]*(?<![_-])")


class PatternError(ValueError):
    """A host pattern that cannot be expanded; the message says why."""


def split_port(pattern: str) -> tuple[str, int | None]:
    """``"web-[01:03]:2222"`` -> ``("web-[01:03]", 2222)``; no port gives None.

    As in Ansible, a pattern that does not read as a host name or address once
    the port is taken off keeps its ``:NN`` as part of the name.
    """
    host, port = pattern, None
    bracketed = re.fullmatch(r"\[(?P<rest>.+)\]:(?P<port>[0-9]+)", host)
    if bracketed:
        host, port = bracketed["rest"], int(bracketed["port"])
    plain = _PORT_SUFFIX.fullmatch(host)
    if plain and not _has_stray_colon(plain["rest"]):
        host, port = plain["rest"], int(plain["port"])
    if port is not None and not _is_address(host):
        return pattern, None
    return host, port


def _has_stray_colon(text: str) -> bool:
    """True when ``text`` has a ``:`` outside brackets, or unbalanced brackets."""
    depth = 0
    for char in text:
        if char == "[":
            if depth:
                return True
            depth = 1
        elif char == "]":
            if not depth:
                return True
            depth = 0
        elif char == ":" and not depth:
            return True
    return depth != 0


def _is_address(host: str) -> bool:
    """A host name (labels of word characters and dashes) or an IPv6 address."""
    plain = _NAME_RANGE.sub("0", host)
    if all(_LABEL.fullmatch(label) for label in plain.split(".")):
        return True
    if "%" in host:
        return False
    try:
        ipaddress.IPv6Address(_ANY_RANGE.sub("0", host))
    except ValueError:
        return False
    return True


def expand(pattern: str) -> list[str]:
    """Every host name a pattern stands for, in order (no port handling here)."""
    if "[" not in pattern:
        return [pattern]
    head, _, rest = pattern.partition("[")
    body, closed, tail = rest.partition("]")
    if "]" in head or not closed:
        raise PatternError(f"unbalanced brackets in host pattern '{pattern}'")
    names: list[str] = []
    for item in _range_items(body, pattern):
        names.extend(expand(head + item + tail))
    return names


def _range_items(body: str, pattern: str) -> list[str]:
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise PatternError(
            f"host range [{body}] in '{pattern}' must be [begin:end] or [begin:end:step]"
        )
    begin, end = bounds[0] or "0", bounds[1]
    if not end:
        raise PatternError(f"host range [{body}] in '{pattern}' has no end")
    step = _step(bounds[2] if len(bounds) == 3 else "1", body, pattern)
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        items = list(letters[letters.index(begin) : letters.index(end) + 1 : step])
    else:
        items = _numbers(begin, end, step, body, pattern)
    if not items:
        raise PatternError(
            f"host range [{body}] in '{pattern}' is empty: its beginning comes after its end"
        )
    return items


def _step(text: str, body: str, pattern: str) -> int:
    try:
        step = int(text)
    except ValueError:
        step = 0
    if step < 1:
        raise PatternError(
            f"host range [{body}] in '{pattern}' needs a step of 1 or more, got '{text}'"
        )
    return step


def _numbers(begin: str, end: str, step: int, body: str, pattern: str) -> list[str]:
    try:
        first, last = int(begin), int(end)
    except ValueError:
        raise PatternError(
            f"host range [{body}] in '{pattern}' must run between two numbers or two letters"
        ) from None
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise PatternError(
            f"host range [{body}] in '{pattern}': '{begin}' and '{end}' must "
            "have the same width (a leading zero fixes the width)"
        )
    return [str(n).zfill(width) for n in range(first, last + 1, step)]


def host_names(pattern: str) -> tuple[list[str], int | None]:
    """The hosts of a pattern and the port it gives them (None if it gives none)."""
    host, port = split_port(pattern)
    names = expand(host)
    if not all(names):
        raise PatternError("a host name cannot be empty")
    return names, port
