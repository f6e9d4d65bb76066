"""What preparation needs to know about a runner, and the host context built from facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from perflab import config
from perflab.errors import InputError
from perflab.facts import parsers
from perflab.facts.cpulist import CpuListError, format_cpulist, parse_cpulist
from perflab.inventory.variables import name_prefix_problem
from perflab.knobs.base import HostContext
from perflab.knobs.freeze import protected_pids
from perflab.pinning.cpus import housekeeping_cpus
from perflab.transport.base import Transport

CPU = "/sys/devices/system/cpu"
BASE_FILES = [f"{CPU}/online", f"{CPU}/cpu*/topology/thread_siblings_list", "/proc/mounts"]
DEFAULT_STATE_DIR = "/var/lib/perflab"


@dataclass(frozen=True)
class RunnerHost:
    """A runner as preparation sees it: its transport and inventory variables."""

    name: str
    transport: Transport
    vars: Mapping[str, Any] = field(default_factory=dict)  # perflab_* and friends, full names
    #: the platform the runner is registered as (``perflab_platform``, or its facts at
    #: registration); None: derived from each run's facts (facts/platform.py)
    platform: str | None = None

    @property
    def root(self) -> str:
        """Where /sys and /proc are (a fake tree in tests; "/" otherwise)."""
        return str(self.vars.get("perflab_sysfs_root") or "/")

    @property
    def prefix(self) -> str:
        """Names of cgroups perflab creates start with it (the ``prefix`` setting for local:
        ``PERFLAB_PREFIX`` or config.yaml); a-z, 0-9 and '-' only, since it becomes a path
        component under /sys/fs/cgroup."""
        configured, source = self.vars.get("perflab_name_prefix"), "perflab_name_prefix"
        if configured in (None, "") and self.transport.shares_files:
            setting = config.settings().prefix
            configured, source = setting.value, setting.source
        if configured in (None, ""):  # unset or empty: the default
            return "perflab"
        problem = name_prefix_problem(configured)
        if problem:
            raise InputError(f"{problem} (runner {self.name})", field=source)
        return str(configured)

    @property
    def state_dir_configured(self) -> bool:
        return bool(self._configured_state_dir())

    def _configured_state_dir(self) -> str | None:
        folder = self.vars.get("perflab_state_dir")
        if not folder and self.transport.shares_files:  # the state_dir setting
            folder = config.settings().state_dir.value
        return str(folder).rstrip("/") or "/" if folder else None

    @property
    def state_dir(self) -> str:
        """The folder on the host with the state file and the host lock."""
        return self._configured_state_dir() or DEFAULT_STATE_DIR

    @property
    def state_file(self) -> str:
        return f"{self.state_dir}/state.json"


def _cpus_var(host: RunnerHost, name: str) -> list[int] | None:
    value = host.vars.get(name)
    if value in (None, ""):
        return None
    try:
        return parse_cpulist(value if isinstance(value, int) else str(value))
    except CpuListError as exc:
        raise InputError(f"{exc} (runner {host.name})", field=name) from None


def cgroup_layout(mounts: str | None) -> str:
    """ "v2" when only the unified hierarchy exists, else "v1" (cpuset/freezer are v1 there)."""
    version = parsers.cgroup_version(mounts)
    return "v2" if version == "v2" else "v1"


def host_context(host: RunnerHost, answer: Mapping[str, Any]) -> HostContext:
    """Build the knobs' context from a probe answer of BASE_FILES (+ processes, self)."""
    files = answer.get("files", {})
    online = parsers.cpus_or_none(files.get(f"{CPU}/online")) or [0]
    siblings: dict[int, str] = {}
    for path, text in files.items():
        if path.endswith("/thread_siblings_list") and text:
            siblings[int(path.split("/")[5].removeprefix("cpu"))] = text.strip()
    configured = host.vars.get("perflab_housekeeping_cpus")
    keep = housekeeping_cpus(online, siblings, str(configured) if configured else None)
    reserved = _cpus_var(host, "perflab_isolated_cpus")
    if reserved is None:
        reserved = [c for c in online if c not in keep]
    me = answer.get("self") or {}
    processes = answer.get("processes") or []
    return HostContext(
        online=online,
        housekeeping=keep,
        reserved=reserved,
        is_root=me.get("uid") == 0,
        vars=dict(host.vars),
        prefix=host.prefix,
        cgroup_version=cgroup_layout(files.get("/proc/mounts")),
        protected=protected_pids(processes, me.get("pid")),
        host=host.name,
    )


def describe_context(ctx: HostContext) -> dict[str, Any]:
    return {
        "online": format_cpulist(ctx.online),
        "housekeeping": format_cpulist(ctx.housekeeping),
        "reserved": format_cpulist(ctx.reserved),
        "root": ctx.is_root,
        "cgroup": ctx.cgroup_version,
    }
