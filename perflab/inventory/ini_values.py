"""How Ansible types a value written in an INI inventory.

Every value, inline on a host line or in a ``[group:vars]`` section, goes
through Python's literal syntax: ``5`` is an int, ``True`` a bool, ``None``
null, ``[1, 2]`` a list, ``{'a': 1}`` a mapping, ``'03'`` the string "03".
What is not a Python literal stays the text it is: ``yes``, ``true``,
``2-5``, ``007``, ``hello world # no comment here``.

The two places differ in what reaches this function. A host line is first
split like a shell command line (quotes removed, ``#`` starts a comment, a
space ends a value), so ``a="[1, 2]"`` arrives as ``[1, 2]`` (a list) but
``a='03'`` arrives as ``03`` (the text "03"); to keep quotes, nest them:
``a="'03'"``. A ``:vars`` line is one ``key=value`` whose value is the rest of
the line, quotes included: ``a='03'`` is the text "03", ``a=[1, 2]`` a list,
and a ``#`` after a value that is not a literal is part of the text.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any


def ini_value(text: str) -> Any:
    """The typed value Ansible makes of ``text``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _plain(value)


def _plain(value: Any) -> Any:
    """Literal results Ansible does not keep as such become lists or text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_key(key): _plain(item) for key, item in value.items()}
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return str(value)
    return value


def _key(key: Any) -> Any:
    return key.decode("utf-8", errors="surrogateescape") if isinstance(key, bytes) else key
