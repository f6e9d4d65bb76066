"""SSH options an Ansible inventory passes on ssh's command line, as perflab reads them.

Ansible hands ``ansible_ssh_common_args`` and ``ansible_ssh_extra_args`` to
``ssh``; perflab reads the options there that decide how a runner is reached:
``-J HOPS`` and ``-o ProxyJump=HOPS``, ``-o ProxyCommand=COMMAND`` (also
``-oName=value`` and ``-o "Name value"``). ``perflab_proxy_jump`` wins over
them. Like ssh's command-line options, they win over the SSH config.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from typing import Any

ARGS = ("ansible_ssh_common_args", "ansible_ssh_extra_args")


def _options(variables: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(option name in lower case, value) for each ``-o`` and ``-J`` in the arguments."""
    for name in ARGS:
        try:
            args = shlex.split(str(variables.get(name) or ""))
        except ValueError:
            continue
        for i, arg in enumerate(args):
            following = args[i + 1] if i + 1 < len(args) else ""
            if arg == "-J" and following:
                yield "proxyjump", following
            elif arg.startswith("-o"):
                text = arg[2:] or following
                key, _, value = text.replace("=", " ", 1).partition(" ")
                if value.strip():
                    yield key.lower(), value.strip()


def ssh_option(variables: Mapping[str, Any], option: str) -> str | None:
    """The first value of ``option`` (lower case, e.g. "proxycommand") given to ssh."""
    return next((value for key, value in _options(variables) if key == option), None)


def proxy_jump(variables: Mapping[str, Any]) -> str | None:
    """``perflab_proxy_jump``, else ``-J``/``ProxyJump`` in the ssh arguments."""
    if variables.get("perflab_proxy_jump"):
        return str(variables["perflab_proxy_jump"])
    return ssh_option(variables, "proxyjump")


def proxy_command(variables: Mapping[str, Any]) -> str | None:
    """``-o ProxyCommand=...`` in the ssh arguments (its %h, %p, %r are expanded later)."""
    return ssh_option(variables, "proxycommand")
