"""The host-side tune helper's promises that the knobs rely on, checked on a fake tree."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.knobs.driver import Driver
from tests.knobs.fakesys import THP, FakeSys, install_fake_systemctl

SWAPPINESS = "/proc/sys/vm/swappiness"
ASLR = "/proc/sys/kernel/randomize_va_space"


def write(path: str, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "knob": "test",
        "target": path,
        "ops": [{"op": "write", "path": path, "value": value, **extra}],
    }


class TestTune:
    def test_bracket_value_recorded_and_restored(self, fake: FakeSys, driver: Driver) -> None:
        """For "always [madvise] never" the selected word is recorded and written back."""
        path = f"{THP}/enabled"
        answer = driver.tune("apply", [write(path, "never", bracket=True)])
        assert answer["applied"][0]["old"] == "madvise"
        state = json.loads(driver.state_file.read_text())
        revert = state["entries"][0]["revert"]
        assert (revert["op"], revert["path"], revert["value"]) == ("write", path, "madvise")
        fake.settle()
        driver.restore()
        fake.settle()
        assert fake.read(path) == "always [madvise] never\n"

    def test_must_false_failure_goes_on(self, fake: FakeSys, driver: Driver) -> None:
        """A failing best-effort op is reported and the next ops still run."""
        answer = driver.tune(
            "apply",
            [write("/proc/irq/99/smp_affinity_list", "0", must=False), write(SWAPPINESS, "10")],
        )
        assert [f["target"] for f in answer["failed"]] == ["/proc/irq/99/smp_affinity_list"]
        assert "aborted" not in answer
        assert fake.read(SWAPPINESS) == "10"
        driver.restore()

    def test_must_failure_aborts(self, fake: FakeSys, driver: Driver) -> None:
        """A failing required op stops the apply; what was done before is restorable."""
        answer = driver.tune(
            "apply", [write(SWAPPINESS, "10"), write("/proc/nope", "1"), write(ASLR, "0")]
        )
        assert answer["aborted"]["target"] == "/proc/nope"
        assert fake.read(ASLR) == "2\n"
        driver.restore()
        assert fake.read(SWAPPINESS) == "60"

    def test_apply_twice_keeps_first_original(self, fake: FakeSys, driver: Driver) -> None:
        """A second apply of another value never replaces the recorded original."""
        driver.tune("apply", [write(SWAPPINESS, "10")])
        driver.tune("apply", [write(SWAPPINESS, "20")])
        entries = json.loads(driver.state_file.read_text())["entries"]
        assert [e["revert"]["value"] for e in entries] == ["60"]
        driver.restore()
        assert fake.read(SWAPPINESS).strip() == "60"

    def test_restore_is_idempotent(self, fake: FakeSys, driver: Driver) -> None:
        """Restoring twice: the second finds nothing to do and changes nothing."""
        driver.tune("apply", [write(SWAPPINESS, "10")])
        first = driver.restore()
        second = driver.restore()
        assert [r["key"] for r in first["restored"]] == [f"write:{SWAPPINESS}"]
        assert second.get("nothing") is True
        assert fake.read(SWAPPINESS).strip() == "60"

    def test_restore_after_crash(self, fake: FakeSys, driver: Driver) -> None:
        """The applying process dies mid-way; a new process restores from the state file."""
        crash = {
            "knob": "test",
            "target": "crash",
            "ops": [{"op": "command", "argv": ["sh", "-c", "kill -9 $PPID"]}],
        }
        request = {
            "action": "apply",
            "state_file": str(driver.state_file),
            "root": driver.root,
            "changes": [write(SWAPPINESS, "10"), crash, write(ASLR, "0")],
        }
        from perflab.hostside import source

        died = driver.transport.run(
            driver.transport.helper_argv(source("tune")), stdin=json.dumps(request).encode()
        )
        assert died.exit_status == -9
        assert fake.read(SWAPPINESS) == "10" and fake.read(ASLR) == "2\n"
        restored = driver.restore()
        assert restored["failed"] == []
        assert fake.read(SWAPPINESS) == "60"
        assert not driver.state_file.exists()

    def test_restore_skips_vanished_files(self, fake: FakeSys, driver: Driver) -> None:
        """A file that vanished since apply (an IRQ whose device went away, a CPU taken
        offline) is reported, and does not keep every other value from being restored."""
        irq = "/proc/irq/24/smp_affinity_list"
        driver.tune("apply", [write(SWAPPINESS, "10"), write(irq, "0")])
        for name in fake.path("/proc/irq/24").iterdir():
            name.unlink()
        fake.path("/proc/irq/24").rmdir()
        restored = driver.restore()
        assert restored["failed"] == []
        assert restored["gone"] == [irq]
        assert fake.read(SWAPPINESS) == "60"
        assert not driver.state_file.exists()

    def test_failed_command_leaves_no_revert(
        self, fake: FakeSys, driver: Driver, tmp_path: Path, monkeypatch: Any
    ) -> None:
        """A stop that failed stopped nothing: restore must not run (and fail on) its start."""
        folder = tmp_path / "bin"
        install_fake_systemctl(folder, {"cron": "active"})
        monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
        stop = {
            "knob": "services",
            "target": "service ghost",
            "ops": [
                {
                    "op": "command",
                    "argv": ["systemctl", "stop", "--", "ghost"],
                    "revert_argv": ["systemctl", "start", "--", "ghost"],
                    "must": False,
                }
            ],
        }
        answer = driver.tune("apply", [write(SWAPPINESS, "10"), stop])
        assert [f["target"] for f in answer["failed"]] == ["command"]
        restored = driver.restore()
        assert restored["failed"] == []
        assert fake.read(SWAPPINESS) == "60"
        assert "start -- ghost" not in (folder / "calls.log").read_text()
