"""Which runtimes a benchmark command starts, from the programs it names (pure).

``runtime: auto`` looks at every program a command starts (the first word,
and the first word after ``;``, ``&&``, ``|``, ``exec``, ``env``, ``time``,
``nice`` ...). A compiled binary gives nothing away by its name (except a Go
test binary, ``*.test``), so when no runtime is recognised ``auto`` sets every
runtime's settings: each variable is read only by its own runtime.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence

LAUNCHERS = {
    "erl": "erlang",
    "escript": "erlang",
    "elixir": "erlang",
    "iex": "erlang",
    "mix": "erlang",
    "rebar3": "erlang",
    "gleam": "erlang",
    "go": "go",
    "java": "jvm",
    "mvn": "jvm",
    "gradle": "jvm",
    "gradlew": "jvm",
    "sbt": "jvm",
    "kotlin": "jvm",
    "scala": "jvm",
    "jbang": "jvm",
    "node": "node",
    "npm": "node",
    "npx": "node",
    "yarn": "node",
    "pnpm": "node",
    "cargo": "tokio",
}
SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "{", "}", "!", "do", "then", "else"}
WRAPPERS = {
    "exec",
    "env",
    "time",
    "nice",
    "nohup",
    "command",
    "sudo",
    "taskset",
    "chrt",
    "numactl",
    "timeout",
    "xargs",
}


def words(command: str | Sequence[str]) -> list[str]:
    """The words of a command: a list as it is, a shell string split like a shell would."""
    if not isinstance(command, str):
        return [str(w) for w in command]
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: the harness's shell will say so
        return command.split()


def programs(command: str | Sequence[str]) -> list[str]:
    """The programs a command starts (base names), skipping wrappers and their options."""
    found: list[str] = []
    expect = True
    for word in words(command):
        if word in SEPARATORS:
            expect = True
            continue
        if not expect:
            continue
        name = word.rsplit("/", 1)[-1]
        if "=" in word or word.startswith("-") or word.isdigit() or name in WRAPPERS:
            continue
        found.append(name)
        expect = False
    return found


def runtime_of(program: str) -> str | None:
    if program.endswith(".test"):
        return "go"
    return LAUNCHERS.get(program)


def detect(commands: Iterable[str | Sequence[str]]) -> list[str]:
    """Runtimes the commands start, in order of first appearance."""
    seen: list[str] = []
    for command in commands:
        for program in programs(command):
            runtime = runtime_of(program)
            if runtime is not None and runtime not in seen:
                seen.append(runtime)
    return seen


def assignments(command: str | Sequence[str]) -> dict[str, str]:
    """``NAME=value`` words a shell command sets for the programs it starts."""
    out: dict[str, str] = {}
    for word in words(command):
        name, sep, value = word.partition("=")
        if sep and name.isidentifier() and name.upper() == name:
            out[name] = value
    return out
