"""What a runner can count (pure): valgrind's version, and whether ``perf stat`` counts.

``counting_commands`` are probe commands (one round trip with the other facts);
``parse_counting`` turns their answers into the ``counting`` facts stored with the
runner (``perflab runner facts``) and with every run that counts::

    {"valgrind": "3.19.0" | null,
     "perf": {"found": true, "events": {"instructions": false, "cycles": false, ...}}}

``perf stat`` answers ``<not supported>`` for an event on most VMs (no PMU passed
through) and ``<not counted>`` where perf_event_paranoid or a container forbids it;
either means that event cannot be counted there.
"""

from __future__ import annotations

import re
from typing import Any

COUNTERS = ("instructions", "cache", "hw")
#: counter -> the tool it needs on the runner, and the package that brings the tool
TOOLS: dict[str, str] = {"instructions": "valgrind", "cache": "valgrind", "hw": "perf"}
PACKAGES: dict[str, str] = {
    "valgrind": "valgrind",
    "perf": "linux-perf (Debian; linux-tools-generic on Ubuntu)",
}
#: perf event -> the metric it becomes (perflab/formats/counted.py)
PERF_EVENTS = ("cycles", "instructions", "branch-misses", "cache-misses")
_VERSION = re.compile(r"valgrind-(\d+(?:\.\d+)*)")


def tools_for(counters: tuple[str, ...]) -> list[str]:
    """The tools a benchmark's counters need, in a fixed order (callgrind first)."""
    return [tool for tool in ("valgrind", "perf") if any(TOOLS[c] == tool for c in counters)]


def counting_commands(path: str | None = None) -> dict[str, Any]:
    """Probe commands; ``path``: the PATH the job's commands run with (None: the host's)."""
    perf = ["perf", "stat", "-x", ",", "-e", ",".join(PERF_EVENTS), "--", "true"]
    return {
        "counting_valgrind": {"argv": ["valgrind", "--version"], "path": path},
        "counting_perf": {"argv": perf, "path": path, "timeout": 20},
    }


def parse_perf_csv(text: str) -> dict[str, float | None]:
    """``perf stat -x ,`` lines -> event -> value (None: not supported or not counted)."""
    out: dict[str, float | None] = {}
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) < 3 or line.startswith("#"):
            continue
        event = parts[2].split(":")[0].strip()
        if not event:
            continue
        try:
            out[event] = float(parts[0])
        except ValueError:  # <not supported>, <not counted>
            out[event] = None
    return out


def parse_counting(commands: dict[str, Any]) -> dict[str, Any]:
    """The ``counting`` facts from the probe's answers to :func:`counting_commands`."""
    valgrind = commands.get("counting_valgrind") or {}
    match = _VERSION.search(valgrind.get("stdout") or "") if valgrind.get("exit") == 0 else None
    perf = commands.get("counting_perf") or {}
    found = perf.get("exit") is not None and "not found" not in (perf.get("stderr") or "")
    values = parse_perf_csv(perf.get("stderr") or "") if found else {}
    return {
        "valgrind": match.group(1) if match else None,
        "perf": {
            "found": bool(found and values),
            "events": {e: values.get(e) is not None for e in PERF_EVENTS},
        },
    }


def can_count(facts: dict[str, Any] | None, counter: str) -> bool:
    """Can a runner with these ``counting`` facts count ``counter``?"""
    facts = facts or {}
    if TOOLS[counter] == "valgrind":
        return bool(facts.get("valgrind"))
    events = (facts.get("perf") or {}).get("events") or {}
    return bool(events.get("instructions"))


def missing_counter(
    facts: dict[str, Any] | None, counters: tuple[str, ...]
) -> tuple[str, str] | None:
    """(counter, why) for the first counter a runner cannot count, else None."""
    facts = facts or {}
    for tool in tools_for(counters):
        counter = next(c for c in counters if TOOLS[c] == tool)
        if can_count(facts, counter):
            continue
        if tool == "valgrind":
            return (
                counter,
                f"valgrind is not installed (install the {PACKAGES['valgrind']} package)",
            )
        perf = facts.get("perf") or {}
        if not perf.get("found"):
            return counter, f"perf is not installed (install {PACKAGES['perf']})"
        return counter, (
            "perf stat cannot count instructions there (<not supported>: no "
            "hardware counters, as on most VMs); count instructions with "
            "callgrind instead"
        )
    return None
