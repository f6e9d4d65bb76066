"""The fake host builder itself: layout per variant, and the kernel's part in settle()."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.knobs.fakesys import CGROUP, CPU, DROP_CACHES, THP, build, install_fake_systemctl


class TestBuild:
    def test_variants(self, tmp_path: Path) -> None:
        """Each driver brings its own turbo switch; None brings no cpufreq at all."""
        intel = build(tmp_path / "a", driver="intel_pstate")
        assert intel.read(f"{CPU}/intel_pstate/no_turbo") == "0\n"
        assert not intel.path(f"{CPU}/cpufreq/boost").exists()
        amd = build(tmp_path / "b", driver="amd-pstate")
        assert amd.read(f"{CPU}/cpu3/cpufreq/boost") == "1\n"  # via the policy3 link
        acpi = build(tmp_path / "c", driver="acpi-cpufreq", shared_policy=True)
        assert acpi.path(f"{CPU}/cpu1/cpufreq").readlink() == Path("../cpufreq/policy0")
        vm = build(tmp_path / "d", driver=None, smt="notsupported")
        assert not vm.path(f"{CPU}/cpu0/cpufreq").exists()
        assert vm.read(f"{CPU}/smt/control") == "notsupported\n"

    def test_cgroup_v2_root(self, tmp_path: Path) -> None:
        """The cgroup v2 root the shield tests start from."""
        fake = build(tmp_path, cpus=8)
        assert "cpuset" in fake.read(f"{CGROUP}/cgroup.controllers").split()
        assert fake.read(f"{CGROUP}/cpuset.cpus.effective") == "0-7\n"
        assert fake.read(f"{CGROUP}/cgroup.subtree_control") == ""


class TestSettle:
    def test_kernel_presentation(self, tmp_path: Path) -> None:
        """Written values gain the newline; bracket files show the choice; actions are eaten."""
        fake = build(tmp_path)
        fake.write("/proc/sys/vm/swappiness", "10", newline=False)
        fake.write(f"{THP}/enabled", "never", newline=False)
        fake.write(DROP_CACHES, "3", newline=False)
        fake.settle()
        assert fake.read("/proc/sys/vm/swappiness") == "10\n"
        assert fake.read(f"{THP}/enabled") == "always madvise [never]\n"
        assert fake.read(DROP_CACHES) == ""
        assert fake.actions == [(DROP_CACHES, "3")]


class TestFakeSystemctl:
    def test_show_stop_start(self, tmp_path: Path) -> None:
        """Answers like systemctl show, and remembers stop/start."""
        script = install_fake_systemctl(tmp_path, {"cron": "active"})

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(script), *args], capture_output=True, text=True, check=False)

        shown = run("show", "--property=LoadState,ActiveState", "--", "cron")
        assert shown.stdout == "LoadState=loaded\nActiveState=active\n"
        assert run("stop", "--", "cron").returncode == 0
        assert "ActiveState=inactive" in run("show", "--", "cron").stdout
        assert "not-found" in run("show", "--", "ghost").stdout
        assert run("start", "--", "ghost").returncode == 5
