"""How often preparing reads a host: once when no knob's files depend on the host context.

Against a fake /sys tree through the real host-side helpers (LocalTransport).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from perflab.prepare import engine
from perflab.prepare.host import RunnerHost
from perflab.spec.playbook import parse_profile
from perflab.transport.local import LocalTransport
from tests.knobs.fakesys import build

SYSCTLS = parse_profile(
    """\
name: sysctls
tasks:
  - aslr: {value: 0}
  - swappiness: {value: 10}
  - sysctl: {name: vm.dirty_ratio, value: 20}
""",
    "sysctls.yml",
)
WITH_GOVERNOR = parse_profile(
    """\
name: mixed
tasks:
  - aslr: {value: 0}
  - governor: {governor: performance}
""",
    "mixed.yml",
)


class Counting(LocalTransport):
    """The local transport, counting host-side helper calls by name."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def call_hostside(self, module: str, request: Mapping[str, Any], **kwargs: Any) -> Any:
        self.calls[module] += 1
        return super().call_hostside(module, request, **kwargs)


@pytest.fixture
def fake_host(tmp_path: Path):
    fake = build(tmp_path, cpus=4)
    transport = Counting()
    host = RunnerHost(
        "fake",
        transport,
        {"perflab_sysfs_root": str(fake.root), "perflab_state_dir": str(tmp_path / "state")},
    )
    yield fake, host, transport
    engine.restore(host)


def states(session: engine.Session) -> list[tuple[str, str, list[tuple[str, Any, Any]]]]:
    return [
        (p.knob, p.status, [(c.target, c.old, c.new) for c in p.changes]) for p in session.plans
    ]


class TestRoundTrips:
    def test_sysctls_are_read_in_one_probe(self, fake_host) -> None:
        """Three sysctl-like knobs: the context and their files in one round trip."""
        _, host, transport = fake_host
        session = engine.plan_profile(host, SYSCTLS)
        assert transport.calls == {"probe": 1}
        assert states(session) == [
            ("aslr", "change", [("/proc/sys/kernel/randomize_va_space", "2", "0")]),
            ("swappiness", "change", [("/proc/sys/vm/swappiness", "60", "10")]),
            ("sysctl", "ok", []),
        ]
        assert session.ctx.online == [0, 1, 2, 3]

    def test_a_per_cpu_knob_adds_one_probe(self, fake_host) -> None:
        """The governor's files depend on the host's CPUs: read once they are known."""
        _, host, transport = fake_host
        session = engine.plan_profile(host, WITH_GOVERNOR)
        assert transport.calls == {"probe": 2}
        governor = next(p for p in session.plans if p.knob == "governor")
        assert [c.target for c in governor.changes] == [
            f"/sys/devices/system/cpu/cpu{n}/cpufreq/scaling_governor" for n in range(4)
        ]

    def test_same_plans_as_reading_everything_after_the_context(
        self, fake_host, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Reading early changes nothing a knob sees (its facts are what it asked for)."""
        _, host, transport = fake_host
        early = [states(engine.plan_profile(host, p)) for p in (SYSCTLS, WITH_GOVERNOR)]
        for name in ("aslr", "swappiness", "sysctl"):
            monkeypatch.setattr(type(engine.get_knob(name)), "reads_need_context", True)
        transport.calls.clear()
        late = [states(engine.plan_profile(host, p)) for p in (SYSCTLS, WITH_GOVERNOR)]
        assert transport.calls == {"probe": 4}
        assert late == early

    def test_apply_verifies_in_one_probe(self, fake_host) -> None:
        """Apply, verify (one probe again), then nothing left to change; restore puts it back."""
        fake, host, transport = fake_host
        before = fake.snapshot()
        session = engine.plan_profile(host, SYSCTLS)
        transport.calls.clear()
        report = engine.apply(session)
        assert report.problems == [] and report.failed == []
        assert transport.calls == {"tune": 2, "probe": 1}  # apply, verify, annotate
        fake.settle()
        assert fake.read("/proc/sys/vm/swappiness").strip() == "10"
        assert engine.plan_profile(host, SYSCTLS).changes == 0
        assert engine.restore(host).failed == []
        fake.settle()
        assert fake.snapshot() == before
