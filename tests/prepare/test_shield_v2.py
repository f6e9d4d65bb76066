"""The cgroup v2 shield, against a fake /sys tree (this machine's cgroup2 has no controllers)."""

from __future__ import annotations

from pathlib import Path

from perflab.knobs.base import Facts, HostContext
from perflab.knobs.cpuset_shield import CpusetShield
from perflab.prepare import engine
from perflab.prepare.host import RunnerHost
from perflab.spec.playbook import parse_profile
from perflab.transport.local import LocalTransport
from tests.knobs.fakesys import build

CG = "/sys/fs/cgroup"
PROFILE = parse_profile("name: v2\ntasks:\n  - cpuset_shield: {cpus: reserved}\n", "v2.yml")


def v2_host(tmp_path: Path):
    fake = build(tmp_path, cpus=4, cgroup_v2=True)
    fake.write("/proc/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0")
    host = RunnerHost(
        "fake",
        LocalTransport(),
        {"perflab_sysfs_root": str(fake.root), "perflab_state_dir": str(tmp_path / "st")},
    )
    return fake, host


def kernel(fake) -> None:
    """What the kernel shows after writes the fake tree only stores."""
    text = fake.read(f"{CG}/cgroup.subtree_control").strip()
    if text == "+cpuset":
        fake.write(f"{CG}/cgroup.subtree_control", "cpuset")
    elif text == "-cpuset":
        fake.write(f"{CG}/cgroup.subtree_control", "", newline=False)


def remove_kernel_files(fake, group: str) -> None:
    """A cgroup's interface files vanish with it; the fake tree needs them gone for rmdir."""
    for entry in fake.path(group).iterdir():
        entry.unlink()


class TestShieldV2:
    def test_apply_verify_restore(self, tmp_path: Path) -> None:
        """v2: cpuset enabled, an isolated partition with exclusive CPUs; restore undoes all."""
        fake, host = v2_host(tmp_path)
        before = fake.snapshot()
        session = engine.plan_profile(host, PROFILE)
        assert session.ctx.cgroup_version == "v2"
        targets = [c.target for p in session.plans for c in p.changes]
        assert targets == [
            f"{CG}/cgroup.subtree_control",
            f"{CG}/perflab-shield",
            f"{CG}/perflab-shield/cpuset.cpus",
            f"{CG}/perflab-shield/cpuset.cpus.exclusive",
            f"{CG}/perflab-shield/cpuset.cpus.partition",
        ]
        report = engine.apply(session)
        kernel(fake)
        shield = f"{CG}/perflab-shield"
        # the fake host has SMT: CPU 0 and its sibling CPU 2 do housekeeping
        assert fake.read(f"{shield}/cpuset.cpus").strip() == "1,3"
        assert fake.read(f"{shield}/cpuset.cpus.partition").strip() == "isolated"
        assert report.shield and report.shield["tasks_file"] == f"{shield}/cgroup.procs"
        assert engine.plan_profile(host, PROFILE).changes == 0, "second apply: no changes"
        remove_kernel_files(fake, shield)
        back = engine.restore(host)
        kernel(fake)
        assert back.failed == []
        assert fake.snapshot() == before

    def test_refused_partition_is_reported_with_the_reason(self) -> None:
        """The kernel's "isolated invalid (reason)" stays a change, with the reason in a note."""
        ctx = HostContext(
            online=[0, 1, 2, 3], housekeeping=[0], reserved=[1, 2, 3], cgroup_version="v2"
        )
        shield = f"{CG}/perflab-shield"
        reason = "isolated invalid (Cpu list in cpuset.cpus not exclusive)"
        facts = Facts(
            files={
                f"{CG}/cgroup.controllers": "cpuset cpu",
                f"{CG}/cgroup.subtree_control": "cpuset",
                f"{shield}/cpuset.cpus": "1-3",
                f"{shield}/cpuset.cpus.exclusive": "1-3",
                f"{shield}/cpuset.cpus.partition": reason,
            }
        )
        plan = CpusetShield().plan("t", {"cpus": "reserved"}, facts, ctx)
        assert [(c.old, c.new) for c in plan.changes] == [(reason, "isolated")]
        assert any("Cpu list in cpuset.cpus not exclusive" in n for n in plan.notes)

    def test_no_cpuset_controller_is_skipped(self) -> None:
        """A v2 tree without the cpuset controller: skipped with the reason, not an error."""
        ctx = HostContext(online=[0, 1], housekeeping=[0], reserved=[1], cgroup_version="v2")
        facts = Facts(files={f"{CG}/cgroup.controllers": "cpu io memory"})
        plan = CpusetShield().plan("t", {}, facts, ctx)
        assert plan.status == "skipped" and "no cpuset controller" in (plan.reason or "")
