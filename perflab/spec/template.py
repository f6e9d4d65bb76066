"""Jinja2 templates in playbook values, as Ansible users write them.

``"{{ perflab_isolated_cpus | default('reserved') }}"``, ``"vm.{{ name | lower }}"``,
``"{{ perflab_turbo | bool }}"``: the values of a playbook's task arguments and
``pin`` are Jinja2 templates, rendered per runner with its inventory
variables over the playbook's ``vars``.

- Jinja2's immutable sandbox: a template cannot reach Python's internals
  (``''.__class__`` is refused) or change the variables it reads.
- ``StrictUndefined``: an undefined variable is an error (``default``/``d``
  give a fallback; ``default(none)`` leaves the argument out).
- Jinja2's built-in filters (``default``/``d``, ``join``, ``lower``,
  ``upper``, ``replace``, ``length`` ...) plus Ansible's ``bool`` (true for
  "yes", "on", "true", "1" in any case and 1; false for "no", "off", "false",
  "0" and 0; anything else is an error, as Ansible 2.23 will make it). ``int``
  and ``float`` refuse text that is not a number unless given a default
  (``int(0)``): Jinja2's silent 0 would quietly become a setting.
- An unknown filter or test, and a syntax error, are errors where the
  playbook is read (``perflab validate``); an undefined variable where it is
  rendered for a runner. Both are :class:`~perflab.errors.InputError` (exit 3);
  the caller adds the file:line:column.
- A value that is exactly one expression keeps its type (a list stays a
  list, a number a number), as Ansible's native types do; text around an
  expression makes text.

Jinja2 is imported only when a value holds a template (``has_template``).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError, describe

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

_MARKERS = ("{{", "{%", "{#")
_TRUE = frozenset({"yes", "on", "true", "1"})
_FALSE = frozenset({"no", "off", "false", "0"})
_UNKNOWN = re.compile(r"No (filter|test) named '([^']+)'")
_UNDEFINED = re.compile(r"^'([^']+)' is undefined$")
_NO_DEFAULT: Any = object()
#: the filters playbooks use most: a misspelling is matched against these first
FAVOURITES = ("int", "float", "bool", "default", "d", "join", "lower", "upper", "replace")


class _FilterError(ValueError):
    """A filter refused its input; the message is the user's."""


def has_template(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


def to_bool(value: Any) -> bool:
    """Ansible's ``bool`` filter, without its deprecated coercion of other values."""
    if isinstance(value, bool):
        return value
    key = (
        value.lower() if isinstance(value, str) else str(value) if isinstance(value, int) else None
    )
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise _FilterError(f"bool: expected yes/no, on/off, true/false or 1/0, got {describe(value)}")


def _number(kind: str, convert: Callable[[Any], Any]) -> Callable[..., Any]:
    def number(value: Any, default: Any = _NO_DEFAULT, *args: Any) -> Any:
        try:
            return convert(value, *args)
        except (TypeError, ValueError, OverflowError):
            if default is not _NO_DEFAULT:
                return default
            raise _FilterError(
                f"{kind}: expected a number, got {describe(value)} (give "
                f"a fallback like {kind}(0) if that is meant)"
            ) from None

    return number


def _int(value: Any, base: int = 10) -> int:
    if isinstance(value, str):
        try:
            return int(value, base)
        except ValueError:
            return int(float(value))
    return int(value)


#: a template's values are bounded like a YAML file's (perflab.limits): at most this much
#: text, this many items, this many operations in one value, and no statements
MAX_TEXT = 1 << 20
MAX_ITEMS = 100_000
MAX_OPERATIONS = 100
MAX_EXPONENT = 256
#: Jinja2's filters a playbook may use (those with a width or a count, which could build
#: gigabytes from a few characters, are left out: center, indent, wordwrap, format ...)
FILTERS = (
    "abs",
    "attr",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "first",
    "float",
    "int",
    "bool",
    "items",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "wordcount",
)
#: the methods of values a template may call (the others are refused: ljust(10**9) ...)
METHODS: dict[type, set[str]] = {
    str: {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "rsplit",
        "startswith",
        "endswith",
        "title",
        "capitalize",
        "isdigit",
        "count",
        "find",
        "splitlines",
    },
    list: {"index", "count"},
    tuple: {"index", "count"},
    dict: {"keys", "values", "items", "get"},
}


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def _bounded(value: Any, what: str) -> Any:
    limit = MAX_TEXT if isinstance(value, str) else MAX_ITEMS
    if _size(value) > limit:
        raise _FilterError(
            f"{what}: the result would be over {limit} "
            f"{'characters' if isinstance(value, str) else 'items'}"
        )
    return value


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be over the bounds, before it is built."""
    number = (int, float)
    if operator == "*" and isinstance(right, int) and not isinstance(left, number):
        left, right = right, left
    if operator == "*" and isinstance(left, int) and isinstance(right, str | list | tuple):
        _bounded_count(_size(right) * max(left, 0), right, "*")
    elif operator == "**" and isinstance(left, number) and isinstance(right, number):
        if abs(right) > MAX_EXPONENT and abs(left) not in (0, 1):
            raise _FilterError(f"**: exponents above {MAX_EXPONENT} are refused")
    elif operator == "+" and isinstance(left, str | list | tuple):
        _bounded_count(_size(left) + _size(right), left, "+")
    elif operator == "%" and isinstance(left, str) and re.search(r"%[-#0 +]*\d{5,}|\.\d{5,}", left):
        raise _FilterError("%: a format width or precision of 10000 or more is refused")


def _bounded_count(count: int, sample: Any, what: str) -> None:
    limit = MAX_TEXT if isinstance(sample, str) else MAX_ITEMS
    if count > limit:
        raise _FilterError(
            f"{what}: the result would be over {limit} "
            f"{'characters' if isinstance(sample, str) else 'items'}"
        )


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    times = text.count(str(old)) if old else len(text) + 1
    if count is not None:
        times = min(times, max(count, 0))
    _bounded_count(len(text) + times * max(len(str(new)) - len(str(old)), 0), text, "replace")
    return text.replace(str(old), str(new), -1 if count is None else count)


def _join(value: Any, separator: str = "", attribute: Any = None) -> str:
    """Jinja2's ``join``, its result bounded."""
    items = [str(v if attribute is None else v[attribute]) for v in value]
    _bounded_count(sum(map(len, items)) + len(separator) * max(len(items) - 1, 0), "", "join")
    return str(separator).join(items)


def _environment_class() -> type[ImmutableSandboxedEnvironment]:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Bounded(ImmutableSandboxedEnvironment):
        """Jinja2's immutable sandbox, with results bounded and fewer things to call."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            if callable(value) and attr not in METHODS.get(type(obj), set()):
                return False
            return bool(super().is_safe_attribute(obj, attr, value))

    return Bounded


@functools.cache
def environment() -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined

    env = _environment_class()(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    env.filters = {name: env.filters[name] for name in FILTERS if name in env.filters}
    env.filters.update(
        {
            "bool": to_bool,
            "int": _number("int", _int),
            "float": _number("float", float),
            "replace": _replace,
            "join": _join,
        }
    )
    env.globals = {"range": env.globals["range"], "dict": dict}
    return env


def _check_shape(text: str) -> None:
    """Expressions only, and few operations: no statements (loops, blocks, macros), so a
    value's size is bounded by its operations'."""
    from jinja2 import nodes

    tree = environment().parse(text)
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise InputError(
                f'template "{text}": statements ({{% ... %}}) are not available '
                "in playbook values; use an expression ({{ a if b else c }})"
            )
    operations = sum(
        1 for _ in tree.find_all((nodes.BinExpr, nodes.Concat, nodes.Filter, nodes.Call))
    )
    if operations > MAX_OPERATIONS:
        raise InputError(
            f'template "{text}": {operations} operations in one value, '
            f"expected at most {MAX_OPERATIONS}"
        )


def _expression(text: str) -> str | None:
    """The expression of a value that is exactly ``{{ expression }}``, else None."""
    from jinja2 import nodes

    body = environment().parse(text).body
    if (
        len(body) != 1
        or not isinstance(body[0], nodes.Output)
        or len(body[0].nodes) != 1
        or isinstance(body[0].nodes[0], nodes.TemplateData)
        or not (text.startswith("{{") and text.endswith("}}"))
    ):
        return None
    inner = text[2:-2]  # whitespace control ({{- x -}}) means nothing for one value
    inner = inner[1:] if inner.startswith("-") else inner
    return inner[:-1] if inner.endswith("-") else inner


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> tuple[Callable[..., Any] | None, Template | None]:
    """(a native evaluator for one expression, or a template for text); Jinja's
    compile-time errors become input errors."""
    from jinja2 import TemplateSyntaxError

    stripped = text.strip()
    try:
        _check_shape(text)
        expression = _expression(stripped)
        if expression is not None:
            return environment().compile_expression(expression, undefined_to_none=False), None
        return None, environment().from_string(text)
    except TemplateSyntaxError as exc:
        raise _bad(text, exc.message or str(exc)) from None


def _bad(text: str, message: str) -> InputError:
    unknown = _UNKNOWN.search(message)
    if unknown is None:
        return InputError(f'bad template "{text}": {message}')
    kind, name = unknown.groups()
    known = list(environment().filters if kind == "filter" else environment().tests)
    close = (
        kind == "filter" and difflib.get_close_matches(name, FAVOURITES, n=1)
    ) or difflib.get_close_matches(name, known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return InputError(f'unknown {kind} "{name}" in "{text}"{hint}')


def check(text: str) -> None:
    """Compile ``text``: a syntax error or an unknown filter raises InputError."""
    _compiled(text)


def render(text: str, variables: Mapping[str, Any]) -> Any:
    """``text`` rendered with ``variables``: one expression's own value, or text."""
    from jinja2 import TemplateRuntimeError, UndefinedError
    from jinja2.exceptions import SecurityError

    evaluate, template = _compiled(text)
    try:
        if evaluate is not None:
            value = evaluate(**variables)
            if _undefined(value):
                str(value)  # StrictUndefined raises UndefinedError when used
            return value
        assert template is not None
        return _bounded(template.render(**variables), "the template")
    except UndefinedError as exc:
        raise _undefined_error(text, exc.message or str(exc)) from None
    except _FilterError as exc:
        raise InputError(f'{exc} (in "{text}")') from None
    except SecurityError as exc:
        raise InputError(f'refused template "{text}": {exc}') from None
    except TemplateRuntimeError as exc:
        raise _bad(text, str(exc)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise InputError(f'template "{text}" failed: {exc}') from None


def _undefined(value: Any) -> bool:
    from jinja2 import Undefined

    return isinstance(value, Undefined)


def _undefined_error(text: str, message: str) -> InputError:
    name = _UNDEFINED.match(message)
    if name is None:
        return InputError(f'template "{text}": {message}')
    return InputError(
        f'variable "{name.group(1)}" is not defined for this runner (set it in '
        "the inventory or the playbook's vars, or give a default)"
    )
