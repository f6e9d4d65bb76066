"""What the three tools share: the hosts, the three settings checked, and a tool's interface."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from measure import Step, StepResult

VENV_BIN = Path(sys.executable).parent

#: the three settings every tool checks: sysctl name -> the knob perflab uses for it.
#: All three are global (not per network namespace), so the fleet hosts read the
#: controller's own kernel; their wanted values are the current ones (see `settings`).
SETTINGS = {
    "kernel.randomize_va_space": "aslr",
    "vm.swappiness": "swappiness",
    "vm.dirty_ratio": "sysctl",
}


class BenchError(RuntimeError):
    """A tool did not do the whole job on every host: the figures would mean nothing."""


@dataclass(frozen=True)
class Target:
    """One fleet host as every tool's inventory names it."""

    name: str
    address: str
    port: int
    user: str
    key_file: str


def settings() -> dict[str, str]:
    """The wanted value of each setting: its current value here.

    The fleet's hosts share this machine's kernel. Asking for the values it
    already has makes the check report "nothing to change" on every host, and
    means that even a tool run by mistake without check mode changes nothing.
    """
    return {
        name: " ".join(Path("/proc/sys", *name.split(".")).read_text().split()) for name in SETTINGS
    }


def tool(name: str) -> str:
    """A command from this interpreter's virtualenv (where the bench extra installed it)."""
    found = VENV_BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise BenchError(f"{name} is not installed: pip install -e '.[bench]'")
    return on_path


def base_env(home: Path) -> dict[str, str]:
    """A small, equal environment for every tool: its own HOME, no rc files, C locale."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
        **({"TMPDIR": os.environ["TMPDIR"]} if "TMPDIR" in os.environ else {}),
    }


class Side(Protocol):
    """One tool: files written once, then per round the commands and a check of their output."""

    name: str

    def steps(self, round_dir: Path) -> list[Step]: ...

    def check(self, results: list[StepResult]) -> dict[str, object]:
        """Raise BenchError unless every host gathered facts and checked all three settings."""
        ...

    def after(self, round_dir: Path) -> None:
        """Clean up what a round leaves behind (Ansible's ControlPersist masters)."""
        ...
