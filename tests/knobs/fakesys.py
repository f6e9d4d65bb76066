"""A fake sysfs/procfs tree for knob tests: a directory laid out like ``/sys`` and ``/proc``.

The host-side helpers take a ``root`` prefix, so pointing them at
``FakeSys.root`` exercises the real probe and tune code without touching this
machine. ``build()`` lays out a host (CPUs with a cpufreq driver or none, SMT,
sysctls, IRQs, workqueue mask, transparent huge pages, systemd, a cgroup v2
root); :meth:`FakeSys.settle` then plays the kernel's part after writes: it
shows files the way the kernel would (a trailing newline, "always [madvise]
never" after "madvise" was written) and consumes action files (drop_caches),
so "restore puts every file back byte for byte" is a meaningful check.

Variants (``driver=``): ``"intel_pstate"`` (no_turbo), ``"acpi-cpufreq"``
(global ``cpufreq/boost``), ``"amd-pstate"`` (global and per-policy ``boost``),
``None`` (a VM: no cpufreq at all). ``shared_policy=True`` puts CPU pairs in one
cpufreq policy (``cpu1/cpufreq`` is a link to ``policy0``), as acpi-cpufreq does
on some machines.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CPU = "/sys/devices/system/cpu"
THP = "/sys/kernel/mm/transparent_hugepage"
CGROUP = "/sys/fs/cgroup"
DROP_CACHES = "/proc/sys/vm/drop_caches"

DRIVERS: dict[str, dict[str, str]] = {
    "intel_pstate": {
        "scaling_driver": "intel_pstate",
        "scaling_governor": "powersave",
        "scaling_available_governors": "performance powersave",
        "scaling_min_freq": "800000",
        "scaling_max_freq": "4500000",
        "cpuinfo_min_freq": "800000",
        "cpuinfo_max_freq": "4500000",
    },
    "acpi-cpufreq": {
        "scaling_driver": "acpi-cpufreq",
        "scaling_governor": "schedutil",
        "scaling_available_governors": "conservative ondemand userspace powersave performance schedutil",
        "scaling_min_freq": "1200000",
        "scaling_max_freq": "3600000",
        "cpuinfo_min_freq": "1200000",
        "cpuinfo_max_freq": "3600000",
    },
    "amd-pstate": {
        "scaling_driver": "amd-pstate-epp",
        "scaling_governor": "powersave",
        "scaling_available_governors": "performance powersave",
        "scaling_min_freq": "400000",
        "scaling_max_freq": "5200000",
        "cpuinfo_min_freq": "400000",
        "cpuinfo_max_freq": "5200000",
    },
}

SYSCTLS = {
    "/proc/sys/kernel/randomize_va_space": "2",
    "/proc/sys/kernel/perf_event_max_sample_rate": "100000",
    "/proc/sys/kernel/perf_cpu_time_max_percent": "25",
    "/proc/sys/kernel/numa_balancing": "1",
    "/proc/sys/kernel/sched_rt_runtime_us": "950000",
    "/proc/sys/kernel/printk": "4\t4\t1\t7",
    "/proc/sys/vm/swappiness": "60",
    "/proc/sys/vm/dirty_ratio": "20",
}

Entry = tuple[str, bytes]  # ("file", content) | ("link", target) | ("dir", b"")


@dataclass
class FakeSys:
    """A fake host tree under ``root``; paths given to its methods are host paths ("/sys/...")."""

    root: Path
    choices: dict[str, list[str]] = field(default_factory=dict)  # bracket files
    action_files: set[str] = field(default_factory=set)
    actions: list[tuple[str, str]] = field(default_factory=list)  # (path, value) consumed

    def path(self, host_path: str) -> Path:
        return self.root / host_path.lstrip("/")

    def write(self, host_path: str, text: str, *, newline: bool = True) -> None:
        target = self.path(host_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text + ("\n" if newline and text else ""))

    def read(self, host_path: str) -> str:
        return self.path(host_path).read_text()

    def mkdir(self, host_path: str) -> None:
        self.path(host_path).mkdir(parents=True, exist_ok=True)

    def link(self, host_path: str, target: str) -> None:
        """A symlink (relative or absolute ``target``, used as given)."""
        where = self.path(host_path)
        where.parent.mkdir(parents=True, exist_ok=True)
        where.symlink_to(target)

    def choice(self, host_path: str, options: list[str], selected: str) -> None:
        """A file like transparent_hugepage/enabled: "always [madvise] never"."""
        self.choices[host_path] = options
        self.write(host_path, _bracketed(options, selected))

    def snapshot(self) -> dict[str, Entry]:
        """Every directory, file (exact bytes) and symlink under the root."""
        found: dict[str, Entry] = {}
        for folder, dirs, files in os.walk(self.root):
            for name in dirs + files:
                full = Path(folder) / name
                key = "/" + str(full.relative_to(self.root))
                mode = full.lstat().st_mode
                if stat.S_ISLNK(mode):
                    found[key] = ("link", str(full.readlink()).encode())
                elif stat.S_ISDIR(mode):
                    found[key] = ("dir", b"")
                else:
                    found[key] = ("file", full.read_bytes())
        return found

    def settle(self) -> None:
        """Show every file as the kernel would after the writes made to it."""
        for key, (kind, content) in self.snapshot().items():
            if kind != "file":
                continue
            text = content.decode()
            if key in self.action_files:
                if text.strip():
                    self.actions.append((key, text.strip()))
                    self.write(key, "", newline=False)
            elif key in self.choices and "[" not in text:
                self.write(key, _bracketed(self.choices[key], text.strip()))
            elif text and not text.endswith("\n"):
                self.write(key, text)


def _bracketed(options: list[str], selected: str) -> str:
    return " ".join(f"[{o}]" if o == selected else o for o in options)


def build(
    tmp: Path,
    *,
    cpus: int = 4,
    driver: str | None = "intel_pstate",
    shared_policy: bool = False,
    smt: str | None = "on",
    irqs: Iterable[int] = (0, 1, 8, 9, 24, 25, 26),
    systemd: bool = False,
    cgroup_v2: bool = True,
    thp: bool = True,
) -> FakeSys:
    """A fake host with ``cpus`` CPUs; each keyword removes or varies one part of it."""
    fake = FakeSys(tmp / "fakeroot")
    fake.root.mkdir(parents=True)
    everything = f"0-{cpus - 1}"
    _cpus(fake, cpus, smt)
    if driver is not None:
        _cpufreq(fake, cpus, driver, shared_policy)
    for path, value in SYSCTLS.items():
        fake.write(path, value)
    fake.write(DROP_CACHES, "", newline=False)
    fake.action_files.add(DROP_CACHES)
    mask = f"{(1 << cpus) - 1:x}"
    fake.write("/proc/irq/default_smp_affinity", mask)
    for irq in irqs:
        fake.write(f"/proc/irq/{irq}/smp_affinity_list", everything)
        fake.write(f"/proc/irq/{irq}/smp_affinity", mask)
        fake.write(f"/proc/irq/{irq}/effective_affinity_list", "0")
    fake.write("/sys/devices/virtual/workqueue/cpumask", mask)
    if thp:
        fake.choice(f"{THP}/enabled", ["always", "madvise", "never"], "madvise")
        fake.choice(
            f"{THP}/defrag", ["always", "defer", "defer+madvise", "madvise", "never"], "madvise"
        )
    if systemd:
        fake.mkdir("/run/systemd/system")
    if cgroup_v2:
        _cgroup_v2(fake, everything)
    return fake


def _cpus(fake: FakeSys, cpus: int, smt: str | None) -> None:
    everything = f"0-{cpus - 1}"
    for name in ("online", "possible", "present"):
        fake.write(f"{CPU}/{name}", everything)
    half = cpus // 2
    for cpu in range(cpus):
        sibling = cpu + half if cpu < half else cpu - half
        pair = sorted({cpu, sibling}) if smt == "on" and half else [cpu]
        fake.write(f"{CPU}/cpu{cpu}/topology/thread_siblings_list", ",".join(map(str, pair)))
    if smt is not None:
        fake.write(f"{CPU}/smt/control", smt)
        fake.write(f"{CPU}/smt/active", "1" if smt == "on" else "0")


def _cpufreq(fake: FakeSys, cpus: int, driver: str, shared: bool) -> None:
    values = DRIVERS[driver]
    for cpu in range(cpus):
        policy = cpu - cpu % 2 if shared else cpu
        if policy == cpu:
            for name, value in values.items():
                fake.write(f"{CPU}/cpufreq/policy{policy}/{name}", value)
            if driver == "amd-pstate":
                fake.write(f"{CPU}/cpufreq/policy{policy}/boost", "1")
        fake.link(f"{CPU}/cpu{cpu}/cpufreq", f"../cpufreq/policy{policy}")
    if driver == "intel_pstate":
        fake.write(f"{CPU}/intel_pstate/status", "active")
        fake.write(f"{CPU}/intel_pstate/no_turbo", "0")
    else:
        fake.write(f"{CPU}/cpufreq/boost", "1")


def _cgroup_v2(fake: FakeSys, everything: str) -> None:
    fake.write(f"{CGROUP}/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc")
    fake.write(f"{CGROUP}/cgroup.subtree_control", "", newline=False)
    fake.write(f"{CGROUP}/cgroup.procs", "1")
    fake.write(f"{CGROUP}/cpuset.cpus.effective", everything)
    fake.write(f"{CGROUP}/cpuset.mems.effective", "0")


def install_fake_systemctl(bin_dir: Path, services: dict[str, str]) -> Path:
    """A ``systemctl`` in ``bin_dir`` (put it first on PATH) managing ``services``.

    ``services`` maps a name to its ActiveState ("active", "inactive" ...); the
    state lives in ``bin_dir/units/NAME`` and every call is logged in
    ``bin_dir/calls.log``. Answers ``show --property=...``, ``stop`` and ``start``.
    """
    units = bin_dir / "units"
    units.mkdir(parents=True, exist_ok=True)
    for name, state in services.items():
        (units / name).write_text(state)
    script = bin_dir / "systemctl"
    script.write_text(
        FAKE_SYSTEMCTL.replace("@PYTHON@", sys.executable).replace("@DIR@", str(bin_dir))
    )
    script.chmod(0o755)
    return script


FAKE_SYSTEMCTL = """#!@PYTHON@
import pathlib, sys
home = pathlib.Path("@DIR@")
with open(home / "calls.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
args = [a for a in sys.argv[1:] if a != "--" and not a.startswith("--property")]
verb, name = args[0], args[-1]
unit = home / "units" / name
if verb == "show":
    if unit.exists():
        print("LoadState=loaded\\nActiveState=" + unit.read_text().strip())
    else:
        print("LoadState=not-found\\nActiveState=inactive")
elif verb in ("stop", "start"):
    if not unit.exists():
        sys.stderr.write("Failed to %s %s.service: Unit %s.service not loaded.\\n"
                         % (verb, name, name))
        sys.exit(5)
    unit.write_text("inactive" if verb == "stop" else "active")
else:
    sys.exit(1)
"""
