"""The environment snapshot stored with every run ("collect evidence first").

``environment_request`` says what to read, ``parse_environment`` turns the
probe's answer into the snapshot; both are pure. ``gather_environment`` (in
``perflab.facts.gather``) does the one host round trip.
"""

from __future__ import annotations

from typing import Any

from perflab.facts import parsers
from perflab.facts.cpulist import format_cpulist

CPU = "/sys/devices/system/cpu"

FILES = [
    "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/osrelease",
    "/etc/os-release",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/loadavg",
    "/proc/mounts",
    f"{CPU}/online",
    f"{CPU}/isolated",
    f"{CPU}/nohz_full",
    f"{CPU}/smt/control",
    f"{CPU}/smt/active",
    f"{CPU}/intel_pstate/no_turbo",
    f"{CPU}/cpufreq/boost",
    f"{CPU}/cpu*/cpufreq/scaling_governor",
    f"{CPU}/cpu*/cpufreq/scaling_driver",
    f"{CPU}/cpu*/topology/thread_siblings_list",
    "/proc/sys/kernel/randomize_va_space",
    "/sys/kernel/mm/transparent_hugepage/enabled",
]


def environment_request(
    workdir: str | None, *, top: int = 10, interval: float = 0.25
) -> dict[str, Any]:
    commands: dict[str, Any] = {}  # the architecture comes with "self" (os.uname)
    if workdir:
        git = ["git", "-C", workdir]
        commands.update(
            {
                "git_commit": {"argv": [*git, "rev-parse", "HEAD"]},
                "git_branch": {"argv": [*git, "rev-parse", "--abbrev-ref", "HEAD"]},
                "git_status": {"argv": [*git, "status", "--porcelain", "--untracked-files=no"]},
            }
        )
    return {
        "files": FILES,
        "commands": commands,
        "self": True,
        "processes": {"interval": interval, "top": top} if top else None,
    }


def _per_cpu(files: dict[str, str | None], leaf: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, text in sorted(files.items()):
        if path.endswith(leaf) and text is not None:
            cpu = path.split("/")[5]
            out[cpu.removeprefix("cpu")] = text.strip()
    return out


def _turbo(files: dict[str, str | None]) -> str:
    no_turbo = parsers.first_line(files.get(f"{CPU}/intel_pstate/no_turbo"))
    if no_turbo in ("0", "1"):
        return "off" if no_turbo == "1" else "on"
    boost = parsers.first_line(files.get(f"{CPU}/cpufreq/boost"))
    if boost in ("0", "1"):
        return "on" if boost == "1" else "off"
    return "unknown"


def _summarize(values: dict[str, str]) -> str | None:
    distinct = sorted(set(values.values()))
    if not distinct:
        return None
    return (
        distinct[0]
        if len(distinct) == 1
        else "mixed: " + ", ".join(f"{cpu}={value}" for cpu, value in values.items())
    )


def _git(commands: dict[str, Any]) -> dict[str, Any] | None:
    head = commands.get("git_commit") or {}
    if head.get("exit") != 0:
        return None
    status = commands.get("git_status") or {}
    branch = commands.get("git_branch") or {}
    return {
        "commit": head["stdout"].strip(),
        "branch": branch.get("stdout", "").strip() or None,
        "dirty": bool(status.get("stdout", "").strip()),
    }


def _throttling(self_facts: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        path: parsers.cpu_stat(text) for path, text in (self_facts.get("cpu_stat") or {}).items()
    }


def parse_environment(answer: dict[str, Any]) -> dict[str, Any]:
    """Turn a probe answer into the environment snapshot (a JSON-ready dict)."""
    files: dict[str, str | None] = answer.get("files", {})
    commands: dict[str, Any] = answer.get("commands", {})
    release = parsers.os_release(files.get("/etc/os-release"))
    online = parsers.cpus_or_none(files.get(f"{CPU}/online"))
    isolated = parsers.cpus_or_none(files.get(f"{CPU}/isolated"))
    self_facts = answer.get("self") or {}
    arch = self_facts.get("machine")
    return {
        "hostname": parsers.first_line(files.get("/proc/sys/kernel/hostname")),
        "os": {
            "id": release.get("ID"),
            "version": release.get("VERSION_ID"),
            "name": release.get("PRETTY_NAME"),
        },
        "kernel": parsers.first_line(files.get("/proc/sys/kernel/osrelease")),
        "arch": arch or None,
        "system": str(self_facts.get("system") or "").lower() or None,  # linux, darwin ...
        "cpu": {
            "model": parsers.cpu_model(files.get("/proc/cpuinfo")),
            "count": len(online) if online else None,
            "online": format_cpulist(online) if online else None,
            "siblings": _per_cpu(files, "/topology/thread_siblings_list"),
        },
        "memory_bytes": parsers.meminfo_bytes(files.get("/proc/meminfo")),
        "cgroup_version": parsers.cgroup_version(files.get("/proc/mounts")),
        "tuning": {
            "governor": _summarize(_per_cpu(files, "/scaling_governor")),
            "cpufreq_driver": _summarize(_per_cpu(files, "/scaling_driver")),
            "turbo": _turbo(files),
            "smt": parsers.first_line(files.get(f"{CPU}/smt/control")),
            "isolated_cpus": format_cpulist(isolated) if isolated else "",
            "nohz_full": parsers.first_line(files.get(f"{CPU}/nohz_full")),
            "aslr": parsers.first_line(files.get("/proc/sys/kernel/randomize_va_space")),
            "thp": parsers.first_line(files.get("/sys/kernel/mm/transparent_hugepage/enabled")),
        },
        # the CPUs a process perflab starts there may use (its cpuset and affinity)
        "allowed_cpus": format_cpulist(self_facts.get("cpus") or []) or None,
        "load": parsers.loadavg(files.get("/proc/loadavg")),
        # the probe itself is not the noise it is looking for
        "top_processes": [p for p in answer.get("processes") or [] if not p.get("self")],
        "throttling": _throttling(self_facts),
        "git": _git(commands),
    }


def throttling_delta(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """Throttling counters that grew during the run, per cpu.stat file."""
    out: dict[str, dict[str, int]] = {}
    for path, counters in after.items():
        old = before.get(path, {})
        moved = {
            k: v - old.get(k, 0)
            for k, v in counters.items()
            if "throttled" in k and v != old.get(k, 0)
        }
        if moved:
            out[path] = moved
    return out
