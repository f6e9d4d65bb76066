"""Which process on which machine drives a run, and whether it is still alive.

A run row records its controller; a later command that opens the store closes
the rows whose controller died without ending them (SIGKILL, a power cut) as
``failed: controller lost``. Only rows of this machine can be judged here
(same host name and boot); a process is the same one when its pid is alive
with the same start time, so a reused pid does not keep a dead run open.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

BOOT_ID = "/proc/sys/kernel/random/boot_id"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), else None."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def identity() -> dict[str, Any]:
    """This process: host name, boot id, pid and start time."""
    boot = _read(BOOT_ID)
    return {
        "host": socket.gethostname(),
        "boot": boot.strip() if boot else None,
        "pid": os.getpid(),
        "start": start_time(os.getpid()),
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def is_gone(controller: dict[str, Any] | None) -> bool:
    """True only when ``controller`` is certainly dead: it ran on this machine (same host
    name and, where known, the same boot) and its process no longer exists."""
    if not controller or controller.get("host") != socket.gethostname():
        return False
    here = identity()
    if controller.get("boot") and here["boot"] and controller["boot"] != here["boot"]:
        return True  # this machine rebooted since
    try:
        pid = int(controller["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    if not _alive(pid):
        return True
    started = controller.get("start")
    return started is not None and start_time(pid) not in (None, started)


def describe(controller: dict[str, Any] | None) -> str:
    if not controller:
        return "its controller"
    return f"perflab (pid {controller.get('pid')} on {controller.get('host')})"
