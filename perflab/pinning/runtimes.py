"""Each runtime's settings for N owned CPUs, and which of them the job already sets (pure).

| runtime | what perflab sets | carried by |
| --- | --- | --- |
| erlang | ``+S N:N +SDcpu N:N +sbt db`` (+ ``pin.erlang`` flags) | ``ERL_AFLAGS`` |
| go | ``GOMAXPROCS=N`` | itself |
| jvm | ``-XX:ActiveProcessorCount=N`` | ``JAVA_TOOL_OPTIONS`` |
| openmp | ``OMP_NUM_THREADS=N``, ``OMP_PROC_BIND=close``, ``OMP_PLACES={c1},{c2}..`` | themselves |
| tokio | ``TOKIO_WORKER_THREADS=N``, ``RAYON_NUM_THREADS=N`` | themselves |
| node | ``UV_THREADPOOL_SIZE=N`` | itself |

A value the job sets itself (in ``env``, a benchmark's ``env``, ``--env``, or
on the command line) wins, and the setting is recorded with ``source: job``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from perflab.pinning import erlang
from perflab.pinning.detect import assignments, words

KNOWN = ("erlang", "go", "jvm", "openmp", "tokio", "node")
JVM_FLAG = "-XX:ActiveProcessorCount"
JVM_CARRIER = "JAVA_TOOL_OPTIONS"
# Where a JVM reads options, lowest precedence first.
JVM_SOURCES = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "command", "_JAVA_OPTIONS")

# Environment variables each runtime reads (for --vary and for grouping probes).
READS: dict[str, tuple[str, ...]] = {
    "erlang": ("ERL_AFLAGS", "ERL_FLAGS", "ERL_ZFLAGS"),
    "go": ("GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"),
    "jvm": ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"),
    "openmp": (
        "OMP_NUM_THREADS",
        "OMP_PROC_BIND",
        "OMP_PLACES",
        "OMP_WAIT_POLICY",
        "OMP_DYNAMIC",
        "GOMP_SPINCOUNT",
    ),
    "tokio": ("TOKIO_WORKER_THREADS", "RAYON_NUM_THREADS"),
    "node": ("UV_THREADPOOL_SIZE", "NODE_OPTIONS"),
}


@dataclass(frozen=True)
class Setting:
    """One runtime setting: what it is, its value, the variable carrying it, who chose it."""

    runtime: str
    name: str  # "+S", "GOMAXPROCS", "-XX:ActiveProcessorCount"
    value: str
    env: str  # the environment variable that carries it
    source: str = "derived"  # derived | job (env) | job command

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "name": self.name,
            "value": self.value,
            "env": self.env,
            "source": self.source,
        }


def derive(runtime: str, cpus: Sequence[int], options: Mapping[str, str]) -> list[Setting]:
    """What perflab would set for ``runtime`` on ``cpus`` (before the job's own values)."""
    n = str(len(cpus))
    if runtime == "erlang":
        return [
            Setting("erlang", flag, value, erlang.CARRIER)
            for flag, value in erlang.derive(len(cpus), options)
        ]
    if runtime == "jvm":
        return [Setting("jvm", JVM_FLAG, n, JVM_CARRIER)]
    plain = {
        "go": [("GOMAXPROCS", n)],
        "openmp": [
            ("OMP_NUM_THREADS", n),
            ("OMP_PROC_BIND", "close"),
            ("OMP_PLACES", ",".join(f"{{{c}}}" for c in sorted(cpus))),
        ],
        "tokio": [("TOKIO_WORKER_THREADS", n), ("RAYON_NUM_THREADS", n)],
        "node": [("UV_THREADPOOL_SIZE", n)],
    }[runtime]
    return [Setting(runtime, name, value, name) for name, value in plain]


def _jvm_explicit(env: Mapping[str, str], command: Sequence[str]) -> tuple[str, str] | None:
    winner = None
    for source in JVM_SOURCES:
        found = command if source == "command" else env.get(source, "").split()
        for word in found:
            if word.startswith(JVM_FLAG + "="):
                winner = (word.partition("=")[2], source)
    return winner


def explicit(
    setting: Setting, env: Mapping[str, str], command: str | Sequence[str]
) -> tuple[str, str] | None:
    """(value, source) when the job sets ``setting`` itself; None when perflab may set it."""
    split = words(command)
    if setting.runtime == "erlang":
        found = erlang.explicit(setting.name, env, split)
    elif setting.runtime == "jvm":
        found = _jvm_explicit(env, split)
    elif setting.name in assignments(command):
        found = (assignments(command)[setting.name], "command")
    else:
        found = (env[setting.name], setting.name) if setting.name in env else None
    if found is None:
        return None
    return found[0], "job command" if found[1] == "command" else "job"


def _carried(env_name: str, items: Sequence[Setting], job_value: str | None) -> str:
    if env_name == erlang.CARRIER:
        text = erlang.render([(s.name, s.value) for s in items])
    elif env_name == JVM_CARRIER:
        text = " ".join(f"{s.name}={s.value}" for s in items)
    else:
        return items[-1].value
    return f"{text} {job_value}" if job_value else text


def apply(
    derived: Sequence[Setting], env: Mapping[str, str], command: str | Sequence[str]
) -> tuple[dict[str, str], list[Setting]]:
    """The variables to add to the benchmark's environment, and every setting as applied.

    ``env`` is what the job itself sets for this benchmark. Derived flags that share a
    carrier with the job's own (``ERL_AFLAGS``, ``JAVA_TOOL_OPTIONS``) go before them.
    """
    applied: list[Setting] = []
    pending: dict[str, list[Setting]] = {}
    for setting in derived:
        found = explicit(setting, env, command)
        if found is not None:
            applied.append(replace(setting, value=found[0], source=found[1]))
        else:
            applied.append(setting)
            pending.setdefault(setting.env, []).append(setting)
    out = {name: _carried(name, items, env.get(name)) for name, items in pending.items()}
    return out, applied
