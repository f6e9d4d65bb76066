"""Pure parsers of host files: /etc/os-release, /proc/cpuinfo, /proc/meminfo ..."""

from __future__ import annotations

import re
import shlex

from perflab.facts.cpulist import CpuListError, parse_cpulist


def os_release(text: str | None) -> dict[str, str]:
    """``/etc/os-release`` as a dict (values unquoted)."""
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            try:
                parts = shlex.split(value)
            except ValueError:
                parts = [value]
            out[key.strip()] = parts[0] if parts else ""
    return out


def cpu_model(cpuinfo: str | None) -> str | None:
    """The CPU model name (x86 "model name", arm "Model"/"CPU part", others "cpu")."""
    for key in ("model name", "Model", "Hardware", "cpu model", "cpu"):
        match = re.search(rf"^{re.escape(key)}\s*:\s*(.+)$", cpuinfo or "", re.MULTILINE)
        if match:
            return match.group(1).strip()
    return None


def meminfo_bytes(text: str | None, key: str = "MemTotal") -> int | None:
    match = re.search(rf"^{key}:\s*(\d+)\s*kB", text or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def loadavg(text: str | None) -> list[float] | None:
    parts = (text or "").split()
    try:
        return [float(p) for p in parts[:3]] if len(parts) >= 3 else None
    except ValueError:
        return None


def cgroup_version(mounts: str | None) -> str:
    """ "v2", "v1", "hybrid" (v1 controllers plus an empty v2 tree) or "none"."""
    v1 = v2 = False
    v2_at_root = False
    for line in (mounts or "").splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        if fields[2] == "cgroup2":
            v2 = True
            v2_at_root = v2_at_root or fields[1] == "/sys/fs/cgroup"
        elif fields[2] == "cgroup":
            v1 = True
    if v2_at_root and not v1:
        return "v2"
    if v1 and v2:
        return "hybrid"
    if v1:
        return "v1"
    return "v2" if v2 else "none"


def cpu_stat(text: str | None) -> dict[str, int]:
    """A cgroup ``cpu.stat`` (nr_periods, nr_throttled, throttled_time/throttled_usec ...)."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def cpus_or_none(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return parse_cpulist(text)
    except CpuListError:
        return None


def first_line(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""
