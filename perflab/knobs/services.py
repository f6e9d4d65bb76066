"""Background services stopped for the measurement, and started again on restore.

Facts come from systemd itself, in the probe's round trip (:meth:`Services.commands`):
``systemctl show --property=LoadState,ActiveState -- NAME`` per service. Only
services that are running are stopped, and only those are started again by
restore, so a service that was already stopped stays stopped. A service this
host does not have is a note, not an error (one profile serves many hosts).
irqbalance is a service: stop it here and the irq_affinity knob's placement holds.
Socket- or timer-activated services come back on demand: list the ``.socket``
and ``.timer`` units too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from perflab.knobs._common import exists, exists_glob
from perflab.knobs.base import Change, Facts, HostContext, Knob, Plan

SYSTEMD_RUNNING = "/run/systemd/system"  # what sd_booted() checks
RUNNING = ("active", "activating", "reloading", "refreshing")
UNIT = r"^[A-Za-z0-9_.:@\\-]+$"  # systemd escapes other bytes as \xNN


def command_name(service: str) -> str:
    return f"services:{service}"


def parse_show(text: str) -> dict[str, str]:
    """``"LoadState=loaded\\nActiveState=active"`` -> ``{"LoadState": "loaded", ...}``."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


class Services(Knob):
    name = "services"
    reads_need_context = False  # its files are the same on every host
    summary = "background services stopped (systemd), started again on restore"
    args: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["names"],
        "properties": {
            "names": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {
                    "type": "string",
                    "pattern": UNIT,
                    "x-expected": 'a systemd unit name like "irqbalance" or "cron.service"',
                },
            },
            "state": {"enum": ["stopped"], "default": "stopped"},
        },
    }

    def paths(self, args: Mapping[str, Any], ctx: HostContext) -> list[str]:
        return [exists_glob(SYSTEMD_RUNNING)]

    def commands(self, args: Mapping[str, Any], ctx: HostContext) -> dict[str, dict[str, Any]]:
        return {
            command_name(name): {
                "argv": ["systemctl", "show", "--property=LoadState,ActiveState", "--", name]
            }
            for name in args["names"]
        }

    def plan(self, task: str, args: Mapping[str, Any], facts: Facts, ctx: HostContext) -> Plan:
        if not exists(facts, SYSTEMD_RUNNING):
            return self.skipped(task, "systemd is not running (PID 1 is not systemd)")
        changes: list[Change] = []
        notes: list[str] = []
        for name in args["names"]:
            answer = facts.commands.get(command_name(name))
            if answer is None or answer.get("exit") != 0:
                error = (answer or {}).get("stderr") or "no answer from the probe"
                return self.error(task, f"cannot ask systemd about {name}: {str(error).strip()}")
            props = parse_show(str(answer.get("stdout", "")))
            if props.get("LoadState") == "not-found":
                notes.append(f"no service {name} on this host")
            elif props.get("ActiveState") in RUNNING:
                changes.append(self._stop(name, props["ActiveState"]))
        state = {"stopped": sorted(args["names"])}
        return self.changed(task, changes, state, notes)

    @staticmethod
    def _stop(name: str, old: str) -> Change:
        op = {
            "op": "command",
            "argv": ["systemctl", "stop", "--", name],
            "revert_argv": ["systemctl", "start", "--", name],
        }
        return Change(target=f"service {name}", old=old, new="stopped", ops=[op])
