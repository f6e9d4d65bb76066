"""Become, as Ansible does it: perflab's commands on a runner run as another user, by sudo.

A runner whose ``ansible_become`` is true runs every command perflab sends it
(host-side helpers and benchmarks alike, as Ansible runs every task) as
``ansible_become_user`` (default root), with ``ansible_become_method: sudo``,
the only method perflab knows. A login user who already is that user runs them
directly. A single command can also ask for root on its own (``sudo=True``).

sudo runs with ``-n`` by default: it never asks, and a sudo that wants a
password is an error that says how to give one. A password is given by
reference (``perflab_become_password_env``, read from perflab's environment
when needed) or typed at the ``-K/--ask-become-pass`` prompt of the command that
connects, and handed to the sudo that runs the command as Ansible hands it: sudo
runs with ``-S -p PROMPT``, and perflab writes the password on the command's
stdin only once that prompt appears on stderr, before any other input. It is
never on a command line, in a file or in an environment. (Checking it once with
``sudo -v`` and then running ``sudo -n`` fails without a terminal: sudo ties the
timestamp to the parent process, which is not the same for the two.)
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.transport.ssh_channel import RemoteCommand

PROMPT = "perflab-sudo-password:"
BECOME_OK = "perflab-become-ok"
#: how long sudo may take to ask for (and check) a password
HANDSHAKE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Become:
    """Run a runner's commands as ``user`` (sudo when the login user is someone else)."""

    user: str = "root"

    @classmethod
    def from_vars(cls, variables: Mapping[str, Any]) -> Become | None:
        """What a runner's ``ansible_become`` and ``ansible_become_user`` say (None: off)."""
        wanted = variables.get("ansible_become")
        if not isinstance(wanted, bool) and wanted is not None:  # INI text: "yes", "True"
            from perflab.truth import boolean

            wanted = boolean(wanted)
        return cls(str(variables.get("ansible_become_user") or "root")) if wanted else None


def sudo_lines(target: str, *, user: str = "root", password: bool = False) -> list[str]:
    """Shell lines that ``exec`` the command text ``target`` as ``user``: directly when the
    login user is that user, else by ``sudo -n`` (or, with ``password``, ``sudo -S`` with
    perflab's prompt; the command then announces itself with BECOME_OK on stderr)."""
    same = '[ "$(id -u)" = 0 ]' if user == "root" else f'[ "$(id -un)" = {shlex.quote(user)} ]'
    as_user = "" if user == "root" else f"-u {shlex.quote(user)} "
    announce = f"printf '%s\\n' {BECOME_OK} >&2; " if password else ""
    lines = [f"if {same}; then {announce}exec {target}; fi"]
    if not password:
        return [*lines, f"exec sudo -n {as_user}-- {target}"]
    wrapper = shlex.quote(f'printf "%s\\n" {BECOME_OK} >&2; exec "$@"')
    return [
        *lines,
        f"exec sudo -S -p {shlex.quote(PROMPT)} {as_user}-- /bin/sh -c {wrapper} "
        f"perflab-become {target}",
    ]


def handshake(remote: RemoteCommand, password: str, deadline: float | None) -> str | None:
    """Answer sudo's prompt with ``password`` (once) and wait for the command to start.

    Returns None once it started, "refused" when sudo asked again (a wrong password),
    "ended" when it ended first (sudo refused otherwise: its message is in stderr),
    "timeout" when nothing came in time.
    """
    limit = time.monotonic() + HANDSHAKE_TIMEOUT_S
    deadline = limit if deadline is None else min(deadline, limit)
    answered = False
    while True:
        err = bytes(remote.err)
        ok = err.find(f"{BECOME_OK}\n".encode())
        prompt = err.find(PROMPT.encode())
        if ok >= 0 and (prompt < 0 or ok < prompt):
            del remote.err[ok : ok + len(BECOME_OK) + 1]
            return None
        if prompt >= 0:
            del remote.err[prompt : prompt + len(PROMPT)]
            if answered:
                return "refused"
            remote.chan.sendall(f"{password}\n".encode())
            answered = True
            continue
        if remote.done:
            return "ended"
        if time.monotonic() >= deadline:
            return "timeout"
        remote.pump(min(1.0, max(0.0, deadline - time.monotonic())))
