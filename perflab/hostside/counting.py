"""Counted repetitions on the host (stdlib only, Python 3.8+): wrap a step's command in
callgrind or ``perf stat``, and read back what they counted.

Sent with the harness: :func:`perflab.hostside.source` puts this module's text before
harness.py's, so the harness calls these functions as its own. A step with
``"count": {"tool": "callgrind", "cache": false}`` (or ``{"tool": "perf"}``) runs as::

    valgrind --tool=callgrind --trace-children=yes -q [--cache-sim=yes]
             --callgrind-out-file=<rundir>/<id>.callgrind.%p  <command>
    perf stat -x , -o <rundir>/<id>.perf -e cycles,instructions,branch-misses,cache-misses
             -- <command>

and its event gets ``"counted": {"tool": ..., "processes": [{"pid": .., "cmd": ..,
"events": {"Ir": ..}, "wrapper": false}], "events": {...}}``. Callgrind writes one file
per process (children too, ``--trace-children=yes``); the shell perflab starts for a
command written as a string is marked ``wrapper`` (its own instructions are not the
benchmark's; when the shell execs the command, the file holds the command only).
perf stat counts the whole process tree it starts, a wrapper shell included.
"""

import os
from typing import Any, Dict, List  # noqa: F401 (type comments, for Python 3.8 hosts)

CALLGRIND = ["valgrind", "--tool=callgrind", "--trace-children=yes", "-q"]
PERF_EVENTS = "cycles,instructions,branch-misses,cache-misses"
#: callgrind's header holds pid, cmd, events and summary within its first lines
HEADER_LINES = 200


def counted_step(step, rundir):
    """The step with its command wrapped in the counting tool, and the wrapper shell's
    command line (None when the command is an argument list: nothing to leave out)."""
    shell = None if step.get("argv") else ["/bin/sh", "-c", step["shell"]]
    argv = [str(a) for a in step["argv"]] if step.get("argv") else list(shell or [])
    prefix = os.path.join(rundir, step["id"])
    count = step["count"]
    if count["tool"] == "callgrind":
        extra = ["--cache-sim=yes"] if count.get("cache") else []
        wrapped = CALLGRIND + extra + ["--callgrind-out-file=" + prefix + ".callgrind.%p"]
    else:
        wrapped = ["perf", "stat", "-x", ",", "-o", prefix + ".perf", "-e", PERF_EVENTS, "--"]
    out = dict(step)
    out["argv"] = wrapped + argv
    out["shell"] = None
    return out, (" ".join(shell) if shell else None)


def _callgrind_header(path):
    info = {"pid": None, "cmd": "", "events": {}}  # type: Dict[str, Any]
    names = []
    with open(path, "r", errors="replace") as handle:
        for number, line in enumerate(handle):
            if number > HEADER_LINES:
                break
            key, _, value = line.partition(":")
            if key == "pid":
                info["pid"] = int(value.strip() or 0)
            elif key == "cmd":
                info["cmd"] = value.strip()
            elif key == "events":
                names = value.split()
            elif key == "summary":
                info["events"] = dict(zip(names, [int(v) for v in value.split()]))
                break
    return info


def _perf_file(path):
    events = {}  # type: Dict[str, Any]
    with open(path, "r", errors="replace") as handle:
        for line in handle:
            parts = line.strip().split(",")
            if len(parts) < 3 or line.startswith("#"):
                continue
            try:
                events[parts[2].split(":")[0]] = float(parts[0])
            except ValueError:  # <not supported>, <not counted>
                events[parts[2].split(":")[0]] = None
    return events


def read_counts(step, rundir, pid, wrapper):
    """(counted, error): what the tool counted for the step run as ``pid``."""
    sid = step["id"]
    if step["count"]["tool"] == "perf":
        path = os.path.join(rundir, sid + ".perf")
        if not os.path.exists(path):
            return None, "perf stat wrote no counts"
        return {"tool": "perf", "events": _perf_file(path)}, None
    processes = []
    names = sorted(n for n in os.listdir(rundir) if n.startswith(sid + ".callgrind."))
    for name in names:
        info = _callgrind_header(os.path.join(rundir, name))
        info["wrapper"] = bool(wrapper) and info["pid"] == pid and info["cmd"] == wrapper
        processes.append(info)
    if not processes:
        return None, "callgrind wrote no counts"
    total = {}  # type: Dict[str, int]
    for info in processes:
        if not info["wrapper"]:
            for key, value in info["events"].items():
                total[key] = total.get(key, 0) + value
    return {"tool": "callgrind", "processes": processes, "events": total}, None
