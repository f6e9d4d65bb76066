"""Platform facts of a runner (pure): what it is, and which knobs it can use.

``platform_request`` extends the environment probe with topology and the
files that tell whether each knob is available; ``parse_platform`` turns the
answer into the facts stored with the runner (``perflab runner facts``).
"""

from __future__ import annotations

from typing import Any

from perflab.facts.counting import counting_commands, parse_counting
from perflab.facts.cpulist import format_cpulist, parse_cpulist
from perflab.facts.environment import environment_request, parse_environment

CPU = "/sys/devices/system/cpu"

#: knob -> files, any of which existing means the knob can work on this host
KNOB_FILES: dict[str, list[str]] = {
    "cpuset_shield": ["/sys/fs/cgroup/cpuset/cpuset.cpus", "/sys/fs/cgroup/cgroup.controllers"],
    "freeze": ["/sys/fs/cgroup/freezer/cgroup.procs", "/proc/self/stat"],
    "governor": [f"{CPU}/cpu0/cpufreq/scaling_governor"],
    "min_frequency": [f"{CPU}/cpu0/cpufreq/scaling_min_freq"],
    "turbo": [f"{CPU}/intel_pstate/no_turbo", f"{CPU}/cpufreq/boost"],
    "smt": [f"{CPU}/smt/control"],
    "irq_affinity": ["/proc/irq/default_smp_affinity"],
    "workqueue": ["/sys/devices/virtual/workqueue/cpumask"],
    "aslr": ["/proc/sys/kernel/randomize_va_space"],
    "perf_sample_rate": ["/proc/sys/kernel/perf_event_max_sample_rate"],
    "transparent_hugepages": ["/sys/kernel/mm/transparent_hugepage/enabled"],
    "swappiness": ["/proc/sys/vm/swappiness"],
    "numa_balancing": ["/proc/sys/kernel/numa_balancing"],
    "drop_caches": ["/proc/sys/vm/drop_caches"],
}
_UNUSABLE = {"smt": ("notsupported", "notimplemented", "forceoff")}


def platform_name(env: dict[str, Any]) -> str:
    """A host's platform from its facts: ``<system>-<arch>`` (``linux-x86_64``,
    ``linux-aarch64``, ``darwin-arm64``). The one definition: runs, runners, dispatch
    and evidence classes all use it; a runner overrides it with ``perflab_platform``
    (``linux-x86_64-epyc``), see :func:`runner_platform`. Facts read before the
    system was recorded come from Linux's /proc (perflab's probes read it)."""
    system = env.get("system") or ("linux" if env.get("kernel") else None)
    return f"{system or 'unknown'}-{env.get('arch') or 'unknown'}"


def runner_platform(registered: str | None, env: dict[str, Any]) -> str:
    """The platform a run on a runner belongs to: the runner's own (``perflab_platform``,
    or what its facts said when registered) when it has one, else from the run's facts."""
    return registered or platform_name(env)


def platform_request() -> dict[str, Any]:
    request = environment_request(None, top=0)
    extra = [
        f"{CPU}/cpu*/topology/core_id",
        f"{CPU}/cpu*/topology/physical_package_id",
        "/sys/devices/system/node/node*/cpulist",
        "/proc/1/comm",
    ]
    files = sorted({*request["files"], *extra, *(f for fs in KNOB_FILES.values() for f in fs)})
    request["files"] = files
    request["commands"] = {**request["commands"], **counting_commands()}
    return request


def _count_distinct(files: dict[str, str | None], leaf: str) -> dict[str, str]:
    return {
        path.split("/")[5]: text.strip()
        for path, text in files.items()
        if path.endswith(leaf) and text is not None
    }


def _knobs(files: dict[str, str | None]) -> dict[str, bool]:
    out = {}
    for knob, paths in KNOB_FILES.items():
        present = [p for p in paths if files.get(p) is not None]
        usable = bool(present)
        if knob in _UNUSABLE and present:
            usable = (files[present[0]] or "").strip() not in _UNUSABLE[knob]
        out[knob] = usable
    out["services"] = (files.get("/proc/1/comm") or "").strip() == "systemd"
    out["sysctl"] = files.get("/proc/sys/vm/swappiness") is not None
    return out


def parse_platform(answer: dict[str, Any]) -> dict[str, Any]:
    files: dict[str, str | None] = answer.get("files", {})
    env = parse_environment(answer)
    cores = _count_distinct(files, "/topology/core_id")
    packages = _count_distinct(files, "/topology/physical_package_id")
    nodes = {
        path.split("/")[5]: text.strip()
        for path, text in files.items()
        if path.endswith("/cpulist") and "/node/" in path and text
    }
    cpus = parse_cpulist(env["cpu"]["online"] or "0")
    physical = len({(packages.get(c), cores.get(c)) for c in cores}) or len(cpus)
    return {
        "hostname": env["hostname"],
        "os": env["os"],
        "kernel": env["kernel"],
        "arch": env["arch"],
        "memory_bytes": env["memory_bytes"],
        "cgroup_version": env["cgroup_version"],
        "cpu": {
            "model": env["cpu"]["model"],
            "count": env["cpu"]["count"],
            "online": format_cpulist(cpus),
            "cores": physical,
            "sockets": len(set(packages.values())) or 1,
            "threads_per_core": max(1, len(cpus) // max(physical, 1)),
            "numa_nodes": dict(sorted(nodes.items())),
            "siblings": env["cpu"]["siblings"],
        },
        "tuning": env["tuning"],
        "knobs": _knobs(files),
        "counting": parse_counting(answer.get("commands") or {}),
        "platform": platform_name(env),
    }
