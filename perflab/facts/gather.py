"""Gather facts through a transport: one probe round trip per call."""

from __future__ import annotations

from typing import Any

from perflab.facts.counting import counting_commands, parse_counting
from perflab.facts.environment import environment_request, parse_environment
from perflab.transport.base import Transport


def probe(transport: Transport, request: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = transport.call_hostside("probe", request)
    return answer


def gather_environment(
    transport: Transport,
    workdir: str | None,
    *,
    top: int = 10,
    counting: bool = False,
    path: str | None = None,
) -> dict[str, Any]:
    """The environment snapshot of the host behind ``transport``; with ``counting``, also
    what it can count (valgrind, perf stat) found through ``path`` (the job's PATH)."""
    request = environment_request(workdir, top=top)
    if counting:
        request["commands"].update(counting_commands(path))
    answer = probe(transport, request)
    env = parse_environment(answer)
    if counting:
        env["counting"] = parse_counting(answer.get("commands") or {})
    return env


def gather_load(transport: Transport) -> dict[str, Any]:
    """Load average and cgroup throttling counters only (cheap, for after a run)."""
    answer = probe(transport, {"files": ["/proc/loadavg"], "self": True})
    env = parse_environment(answer)
    return {"load": env["load"], "throttling": env["throttling"]}
