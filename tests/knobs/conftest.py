"""Fixtures for knob tests: a fake host tree, a driver on it, the default host context."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.knobs.base import HostContext
from perflab.transport.local import LocalTransport
from tests.knobs.driver import Driver
from tests.knobs.fakesys import FakeSys, build


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Host state files go under the test's tmp_path, never /var/lib/perflab."""
    folder = tmp_path / "state"
    monkeypatch.setenv("PERFLAB_STATE_DIR", str(folder))
    return folder


@pytest.fixture
def fake(tmp_path: Path) -> FakeSys:
    return build(tmp_path)


@pytest.fixture
def ctx() -> HostContext:
    return HostContext(online=[0, 1, 2, 3], housekeeping=[0], reserved=[1, 2, 3])


def driver_for(fake: FakeSys, state_dir: Path) -> Driver:
    return Driver(
        LocalTransport(), state_file=state_dir / "perflab-state.json", root=str(fake.root)
    )


@pytest.fixture
def driver(fake: FakeSys, state_dir: Path) -> Driver:
    return driver_for(fake, state_dir)
