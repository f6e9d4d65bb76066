"""The shell text sent with each SSH ``exec`` request (pure string building).

sshd runs the text with the user's login shell, in a new session (sshd calls
``setsid``), so the shell's ``$$`` is the process group of everything the
command starts. The text prints that group id on stderr (``perflab-pgid``),
changes directory, exports the environment (sshd's ``AcceptEnv`` is usually
off) and ``exec``s the command, so its exit status or signal is the channel's.
Problems found before the command starts are reported as ``perflab-error:``
lines on stderr, before the group id line.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from perflab.errors import InputError
from perflab.transport.base import Command
from perflab.transport.become import sudo_lines

PGID_MARK = "perflab-pgid "
ERROR_MARK = "perflab-error: "
#: sshd passes the text as one argument to the shell; Linux caps one argument at 128 KiB
MAX_INLINE = 100_000

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_env(env: Mapping[str, str]) -> None:
    for name in env:
        if not _NAME.match(name):
            raise InputError(
                f"environment variable name {name!r} is not a valid shell name", field="env"
            )


def _target(command: Command) -> str:
    if isinstance(command, str):
        return "/bin/sh -c " + shlex.quote(command)
    if not command:
        raise InputError("empty command", field="command")
    return shlex.join(command)


def _fail(message: str, status: int) -> str:
    return f"{{ printf '%s\\n' {shlex.quote(ERROR_MARK + message)} >&2; exit {status}; }}"


def remote_script(
    command: Command,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    sudo: bool = False,
    sudo_user: str = "root",
    sudo_password: bool = False,
) -> str:
    """Shell text that runs ``command`` the way :class:`~perflab.transport.base.Transport` says.

    With ``sudo`` the command runs as ``sudo_user`` (:mod:`perflab.transport.become`:
    ``sudo -n``, or with ``sudo_password`` sudo asks perflab's prompt on stderr and the
    controller answers on stdin).
    """
    env = {k: str(v) for k, v in (env or {}).items()}
    _check_env(env)
    lines = []
    if cwd is not None:
        lines.append(
            f"cd -- {shlex.quote(cwd)} 2>/dev/null || "
            + _fail(f"cannot change to directory {cwd}: missing or not accessible", 127)
        )
    if not isinstance(command, str) and command and not sudo:
        lines.append(
            f"command -v -- {shlex.quote(command[0])} >/dev/null 2>&1 || "
            + _fail(f"{command[0]}: command not found", 127)
        )
    lines.append(f'printf \'{PGID_MARK}%s %s\\n\' "$$" "$(id -u)" >&2')
    if sudo:
        assign = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
        target = f"env {assign} {_target(command)}" if env else _target(command)
        lines += sudo_lines(target, user=sudo_user, password=sudo_password)
    else:
        lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
        lines.append(f"exec {_target(command)}")
    return "\n".join(lines)


def file_runner(path: str) -> str:
    """The exec text for a script too long to pass inline: run it, it removes itself first."""
    return f"exec /bin/sh {shlex.quote(path)}"


def file_script(script: str) -> str:
    return 'rm -f -- "$0"\n' + script


def kill_script(pgid: int, sig: str, *, sudo: bool, sudo_user: str = "root") -> str:
    """Signal a whole process group and (for KILL) every process left in its session
    (``sudo``: as ``sudo_user``, by ``sudo -n``)."""
    prefix = ""
    if sudo:
        prefix = "sudo -n " + ("" if sudo_user == "root" else f"-u {shlex.quote(sudo_user)} ")
    text = f"{prefix}kill -{sig} -- -{pgid} 2>/dev/null"
    if sig == "KILL":
        text += f"; {prefix}pkill -KILL -s {pgid} 2>/dev/null"
    return text + "; exit 0"


def parse_pgid(line: str) -> tuple[int, int] | None:
    """(process group id, uid) from the ``perflab-pgid`` line, or None."""
    if not line.startswith(PGID_MARK):
        return None
    fields = line[len(PGID_MARK) :].split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        return None
    return int(fields[0]), int(fields[1])


def sudo_refusal(exit_status: int, stderr: bytes) -> str | None:
    """Why ``sudo -n`` did not run the command ("password", "missing"), or None if it did."""
    err = stderr.decode("utf-8", "replace")
    if exit_status == 1 and "sudo:" in err and "password is required" in err:
        return "password"
    if exit_status == 127 and "sudo" in err and "not found" in err:
        return "missing"
    return None
