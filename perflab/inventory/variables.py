"""The inventory variables perflab reads, what each may hold, and their checks.

perflab reads Ansible's connection variables and its own ``perflab_*``
variables; every other variable is kept as Ansible would keep it and left
alone. A ``perflab_*`` name that is not listed here is refused (a typo would
otherwise silently fall back to a default). perflab does not evaluate Jinja,
so the variables it reads cannot be templates.

This table is the single list: ``inventories/README.md`` documents it, and a
part of perflab that reads a new variable adds it here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from perflab.errors import describe
from perflab.inventory.problems import did_you_mean
from perflab.secret_vars import (
    BECOME_PASSWORD_ENV,
    KEY_PASSPHRASE_ENV,
    SSH_PASSWORD_ENV,
    is_secret_name,
    is_vaulted,
)
from perflab.truth import FALSE, TRUE, boolean

PREFIX = "perflab_"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CPU_LIST = re.compile(r"\s*\d+(?:-\d+)?(?:\s*,\s*\d+(?:-\d+)?)*\s*")
MAX_PREFIX_LENGTH = 64
_NAME_PREFIX = re.compile(rf"[a-z0-9-]{{1,{MAX_PREFIX_LENGTH}}}")
_TRUE, _FALSE = TRUE, FALSE


@dataclass(frozen=True)
class Variable:
    """One variable perflab reads: its kind of value and what it means."""

    name: str
    kind: str  # text | prefix | cpus | labels | bool | port | number | list | envname
    #            | connection | become_method
    meaning: str


PERFLAB_VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "perflab_platform",
            "text",
            "platform class results are grouped and compared by, "
            "e.g. linux-x86_64 (default: from the runner's facts)",
        ),
        Variable(
            "perflab_isolated_cpus",
            "cpus",
            'CPUs reserved for benchmarks, e.g. "2-15" '
            "(default: every CPU that is not a housekeeping CPU)",
        ),
        Variable(
            "perflab_housekeeping_cpus",
            "cpus",
            'CPUs left to the system and perflab, e.g. "0,16" (default: CPU 0 and its SMT sibling)',
        ),
        Variable(
            "perflab_profile",
            "text",
            "preparation playbook applied before a job, a name under playbooks/ or a path",
        ),
        Variable("perflab_labels", "labels", 'labels jobs can ask for, a list or "a,b"'),
        Variable("perflab_keep_tuned", "bool", "leave the profile applied after a job"),
        Variable(
            "perflab_proxy_jump",
            "text",
            "jump host(s) to reach the runner through, as "
            "`ssh -J` takes them (also read from ansible_ssh_common_args)",
        ),
        Variable(
            "perflab_connect_timeout",
            "number",
            "seconds to wait for the SSH connection (default 10)",
        ),
        Variable(
            "perflab_keepalive",
            "number",
            "seconds between SSH keepalives; a link that "
            "stays silent for 3 of them is dead (default 15)",
        ),
        Variable(
            "perflab_state_dir",
            "text",
            "where the runner keeps its preparation state file (default /var/lib/perflab)",
        ),
        Variable(
            "perflab_name_prefix",
            "prefix",
            "prefix of the cgroups perflab creates: a-z, 0-9 and '-' (default perflab)",
        ),
        Variable(
            "perflab_freeze_patterns", "list", "process name globs the shield profile freezes"
        ),
        Variable(
            "perflab_freeze_cpu_above",
            "number",
            "the shield profile also freezes processes above this CPU percentage (off unless set)",
        ),
        Variable(
            "perflab_sysfs_root",
            "text",
            "for tests: a directory laid out like / whose sys "
            "and proc the knobs use instead of the real ones",
        ),
        Variable(
            SSH_PASSWORD_ENV,
            "envname",
            "the environment variable that holds the SSH "
            "password, read when perflab connects (the password itself is never stored)",
        ),
        Variable(
            BECOME_PASSWORD_ENV,
            "envname",
            "the environment variable that holds the sudo password, read when sudo asks for it",
        ),
        Variable(
            KEY_PASSPHRASE_ENV,
            "envname",
            "the environment variable that holds the "
            "passphrase of the SSH key file, read when the key is opened",
        ),
    )
}

CONNECTION_VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("ansible_host", "text", "address to connect to (default: the host's name)"),
        Variable("ansible_ssh_host", "text", "same as ansible_host; wins if both are set"),
        Variable("ansible_port", "port", "SSH port (default 22)"),
        Variable("ansible_ssh_port", "port", "same as ansible_port; wins if both are set"),
        Variable("ansible_user", "text", "SSH user (default: the SSH client's default)"),
        Variable("ansible_ssh_user", "text", "same as ansible_user; wins if both are set"),
        Variable("ansible_private_key_file", "text", "SSH private key, relative to the inventory"),
        Variable(
            "ansible_ssh_private_key_file",
            "text",
            "same as ansible_private_key_file; wins if both are set",
        ),
        Variable(
            "ansible_connection",
            "connection",
            "ssh (also paramiko, smart), or local: this machine, without SSH (default ssh)",
        ),
        Variable(
            "ansible_become",
            "bool",
            "run every command on the runner as ansible_become_user, through sudo (default false)",
        ),
        Variable(
            "ansible_become_user",
            "text",
            "the user commands run as with ansible_become (default root)",
        ),
        Variable(
            "ansible_become_method",
            "become_method",
            "how to become that user: sudo, the only method perflab knows (default sudo)",
        ),
    )
}

#: ansible_connection values that mean SSH (paramiko and smart are Ansible's other names)
SSH_CONNECTIONS = frozenset({"ssh", "paramiko", "paramiko_ssh", "smart"})


def check_variable(name: str, value: Any) -> str | None:
    """What is wrong with ``name: value`` for perflab, or None if nothing is.

    Secrets are not wrong here: they are dropped, with a note, when runners are
    registered (:mod:`perflab.secret_vars`).
    """
    spec = PERFLAB_VARIABLES.get(name) or CONNECTION_VARIABLES.get(name)
    if spec is None:
        if name.startswith(PREFIX) and not is_secret_name(name):
            return f"unknown perflab variable '{name}'{did_you_mean(name, PERFLAB_VARIABLES)}"
        return None
    if value is None:
        return None
    return _value_problem(name, value) or _CHECKS[spec.kind](name, value)


def _value_problem(name: str, value: Any) -> str | None:
    """What perflab cannot read in any variable it reads: vault values, templates."""
    if is_vaulted(value):
        return f"{name} is encrypted with ansible-vault, which perflab cannot decrypt"
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return f"{name} is a Jinja template ({describe(value)}); perflab does not evaluate them"
    return None


def _text(name: str, value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"{name} must be a non-empty string, got {describe(value)}"


def _cpus(name: str, value: Any) -> str | None:
    try:
        cpu_list(value)
    except ValueError as exc:
        return f"{name}: {exc}"
    return None


def _labels(name: str, value: Any) -> str | None:
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    ):
        return None
    return f'{name} must be a list of strings or "a,b", got {describe(value)}'


def _bool(name: str, value: Any) -> str | None:
    try:
        boolean(value)
    except ValueError:
        return f"{name} must be true or false, got {describe(value)}"
    return None


def name_prefix_problem(value: Any) -> str | None:
    """Why ``value`` cannot prefix the names perflab creates on a host, or None. It becomes
    a path component (``/sys/fs/cgroup/cpuset/<prefix>-shield``): a-z, 0-9 and '-' only."""
    if isinstance(value, str) and _NAME_PREFIX.fullmatch(value):
        return None
    return (
        f"expected a name of a-z, 0-9 and '-' (at most {MAX_PREFIX_LENGTH} characters), "
        f"got {describe(value)}"
    )


def _prefix(name: str, value: Any) -> str | None:
    problem = name_prefix_problem(value)
    return f"{name}: {problem}" if problem else None


def _port(name: str, value: Any) -> str | None:
    try:
        port_number(value)
    except ValueError:
        return f"{name} must be a port number from 1 to 65535, got {describe(value)}"
    return None


def _number(name: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return f"expected a number, got {value!r}"
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return f"expected a number, got {value!r}"
    if not math.isfinite(number):
        return f"{name}: expected a finite number, got {value!r}"
    return None


def _list(name: str, value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return f"expected a list of strings, got {value!r}"


def _envname(name: str, value: Any) -> str | None:
    if isinstance(value, str) and _ENV_NAME.fullmatch(value):
        return None
    return (
        f"{name} must be the name of an environment variable (letters, digits, _), "
        f"got {describe(value)}"
    )


def _connection(name: str, value: Any) -> str | None:
    if isinstance(value, str) and value in {*SSH_CONNECTIONS, "local"}:
        return None
    return (
        f"{name} must be ssh or local (perflab reaches runners over SSH or runs on this "
        f"machine), got {describe(value)}"
    )


def _become_method(name: str, value: Any) -> str | None:
    if value == "sudo":
        return None
    return (
        f"{name} must be sudo (perflab becomes another user with sudo only), got {describe(value)}"
    )


_CHECKS = {
    "text": _text,
    "prefix": _prefix,
    "cpus": _cpus,
    "labels": _labels,
    "bool": _bool,
    "port": _port,
    "number": _number,
    "list": _list,
    "envname": _envname,
    "connection": _connection,
    "become_method": _become_method,
}


def cpu_list(value: Any) -> list[int]:
    """``"0-2,5"``, ``3`` or ``[2, 4]`` (what INI makes of ``2,4``) as sorted CPU numbers."""
    if isinstance(value, bool):
        raise ValueError(f'expected a CPU list like "2-5,8", got {describe(value)}')
    if isinstance(value, int):
        value = [value]
    if isinstance(value, list) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        value = ",".join(str(i) for i in value)
    if not isinstance(value, str) or not _CPU_LIST.fullmatch(value):
        raise ValueError(f'expected a CPU list like "2-5,8", got {describe(value)}')
    cpus: set[int] = set()
    for part in value.split(","):
        first, _, last = part.strip().partition("-")
        if last and int(last) < int(first):
            raise ValueError(f'range {part.strip()} runs backwards in "{value}"')
        cpus.update(range(int(first), int(last or first) + 1))
    return sorted(cpus)


def labels(value: Any) -> list[str]:
    """``["a", "b"]`` or ``"a,b"`` as a list of labels."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value]


def port_number(value: Any) -> int:
    """A port given as an int or as digits, 1 to 65535."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(describe(value))
    number = int(value) if isinstance(value, int) or value.strip().isdigit() else 0
    if not 1 <= number <= 65535:
        raise ValueError(describe(value))
    return number


def normalized(name: str, value: Any) -> Any:
    """A checked perflab variable in one shape per kind: CPU lists as ``"2-5,8"``,
    labels as a list, booleans as bool, text as str; others unchanged."""
    spec = PERFLAB_VARIABLES.get(name)
    if spec is None or value is None:
        return value
    if spec.kind == "cpus":
        return format_cpus(cpu_list(value))
    if spec.kind == "labels":
        return labels(value)
    if spec.kind == "bool":
        return boolean(value)
    return str(value) if spec.kind == "text" else value


def format_cpus(cpus: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    runs: list[list[int]] = []
    for cpu in sorted(set(cpus)):
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs)
