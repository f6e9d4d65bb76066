"""Erlang emulator flags: derive them, and find the ones a job already sets (pure).

Derived flags travel in ``ERL_AFLAGS``, which erl puts at the *start* of its
command line: flags on the command line, in ``ERL_FLAGS`` or in ``ERL_ZFLAGS``
come later and win, which is exactly "the job's explicit values win".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Flags that take a value, longest first so "+sbwtdcpu" is not read as "+sbwt" "dcpu".
VALUE_FLAGS = tuple(
    sorted(
        (
            "+S",
            "+SP",
            "+SDcpu",
            "+SDPcpu",
            "+SDio",
            "+sbt",
            "+sbwt",
            "+sbwtdcpu",
            "+sbwtdio",
            "+swt",
            "+swtdcpu",
            "+swtdio",
            "+sws",
            "+sub",
            "+scl",
            "+A",
        ),
        key=len,
        reverse=True,
    )
)
# Where erl reads flags, lowest precedence first ("command" is the benchmark's own command).
SOURCES = ("ERL_AFLAGS", "command", "ERL_FLAGS", "ERL_ZFLAGS")
CARRIER = "ERL_AFLAGS"
OPTIONS = ("sbt", "sbwt", "sbwtdcpu", "sbwtdio", "swt")


def derive(cpus: int, options: Mapping[str, str]) -> list[tuple[str, str]]:
    """``+S N:N +SDcpu N:N +sbt db`` for N owned CPUs, plus the flags the job asks for."""
    flags = [
        ("+S", f"{cpus}:{cpus}"),
        ("+SDcpu", f"{cpus}:{cpus}"),
        ("+sbt", options.get("sbt", "db")),
    ]
    flags += [(f"+{name}", options[name]) for name in OPTIONS if name != "sbt" and name in options]
    return flags


def parse_flags(words: Sequence[str]) -> dict[str, str]:
    """The value flags in a list of words (``["+S", "4:4", "+sbtu"]``); the last one wins."""
    found: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        flag = next((f for f in VALUE_FLAGS if word.startswith(f)), None)
        if flag is not None:
            attached = word[len(flag) :]
            if attached:
                found[flag] = attached
            elif i + 1 < len(words):
                found[flag] = words[i + 1]
                i += 1
        i += 1
    return found


def explicit(flag: str, env: Mapping[str, str], command: Sequence[str]) -> tuple[str, str] | None:
    """(value, where) of ``flag`` as the job sets it, by erl's precedence; None if unset."""
    winner = None
    for source in SOURCES:
        words = list(command) if source == "command" else env.get(source, "").split()
        value = parse_flags(words).get(flag)
        if value is not None:
            winner = (value, source)
    return winner


def render(flags: Sequence[tuple[str, str]]) -> str:
    return " ".join(f"{flag} {value}" for flag, value in flags)


def schedulers(value: str) -> tuple[int | None, int | None]:
    """``"4:2"`` -> (4, 2); ``"4"`` -> (4, 4); relative forms (``"-1"``, ``":2"``) -> None."""
    total, _, online = value.partition(":")
    first = int(total) if total.isdigit() else None
    second = int(online) if online.isdigit() else (first if not online else None)
    return first, second
