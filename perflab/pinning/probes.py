"""Tiny programs that ask a runtime (and /proc) what it did, and parsers of their answers.

Each probe is a harness step run exactly like a benchmark repetition: the same
placement (cgroup, affinity), the same scheduling policy and nice value, the
same environment. They run after the setup steps, before the first warmup.

- os: ``/proc/self/status`` (Cpus_allowed_list), ``/proc/self/stat`` (policy, rt
  priority, nice), ``/proc/self/limits`` (RLIMIT_RTTIME), the runtime variables it
  got; needs only the harness's python.
- erlang: ``erlang:system_info/1`` (schedulers, schedulers_online, scheduler_bindings,
  dirty_cpu_schedulers_online ...); needs ``erl``.
- go: ``runtime.GOMAXPROCS(0)``, ``runtime.NumCPU()`` from a ten-line program built
  with ``go build`` (cached by Go's build cache); needs ``go``.
- jvm: ``Runtime.availableProcessors()`` from a one-file program (``java File.java``);
  needs ``java`` 11 or later.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from perflab.facts.cpulist import CpuListError, parse_cpulist

PROGRAMS = {"erlang": "erl", "go": "go", "jvm": "java"}  # what a runtime probe needs

OS_CODE = """\
import json, os, sys
def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None
print(json.dumps({"status": read("/proc/self/status"), "stat": read("/proc/self/stat"),
                  "limits": read("/proc/self/limits"), "cgroup": read("/proc/self/cgroup"),
                  "env": {k: os.environ[k] for k in sys.argv[1:] if k in os.environ}}))
"""

ERLANG_CODE = (
    "I = fun erlang:system_info/1, "
    "B = [case X of unbound -> u; C -> C end || X <- tuple_to_list(I(scheduler_bindings))], "
    'io:format("schedulers=~w~nschedulers_online=~w~ndirty_cpu_schedulers=~w~n'
    "dirty_cpu_schedulers_online=~w~nlogical_processors_available=~w~n"
    'scheduler_bind_type=~w~nscheduler_bindings=~w~notp_release=~s~n", '
    "[I(schedulers), I(schedulers_online), I(dirty_cpu_schedulers), "
    "I(dirty_cpu_schedulers_online), I(logical_processors_available), "
    "I(scheduler_bind_type), B, I(otp_release)]), halt()."
)

GO_CODE = """\
package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Printf("gomaxprocs=%d\\nnumcpu=%d\\nversion=%s\\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version())
}
"""

JVM_CODE = """\
public class PerflabProbe {
    public static void main(String[] args) {
        System.out.println("available_processors=" + Runtime.getRuntime().availableProcessors());
        System.out.println("version=" + System.getProperty("java.version"));
    }
}
"""


def _source_step(folder: str, name: str, code: str, run: str) -> dict[str, Any]:
    """A shell step that writes ``code`` to ``folder/name`` and runs ``run`` there."""
    quoted = shlex.quote(folder)
    script = (
        f"set -e\nmkdir -p {quoted}\ncd {quoted}\n"
        f"cat > {name} <<'PERFLAB_PROBE_EOF'\n{code}PERFLAB_PROBE_EOF\n{run}\n"
    )
    return {"shell": script}


def command(kind: str, *, python: str, rundir: str, keys: Sequence[str]) -> dict[str, Any]:
    """The harness step fields (``argv`` or ``shell``) of one probe."""
    if kind == "os":
        return {"argv": [python, "-c", OS_CODE, *keys]}
    if kind == "erlang":
        return {"argv": ["erl", "-noshell", "-eval", ERLANG_CODE]}
    if kind == "go":
        build = (
            "env -u GOFLAGS -u GOOS -u GOARCH go build -o perflab-probe main.go >&2\n"
            "exec ./perflab-probe"
        )
        return _source_step(f"{rundir}/probe-go", "main.go", GO_CODE, build)
    if kind == "jvm":
        return _source_step(
            f"{rundir}/probe-jvm", "PerflabProbe.java", JVM_CODE, "exec java PerflabProbe.java"
        )
    raise ValueError(f"no probe for {kind!r}")


# -- answers -------------------------------------------------------------------------------

POLICY_NAMES = {0: "other", 1: "fifo", 2: "rr", 3: "batch", 5: "idle", 6: "deadline"}


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def key_values(text: str) -> dict[str, str]:
    """``name=value`` lines (what the erlang, go and jvm probes print)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            out[name.strip()] = value.strip()
    return out


def _status_field(status: str, name: str) -> str | None:
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return value.strip()
    return None


def _stat_fields(stat: str) -> list[str]:
    """Fields of /proc/PID/stat after the command name; field k (1-based) is [k - 3]."""
    return stat[stat.rfind(")") + 2 :].split()


def _rttime(limits: str) -> int | None:
    for line in limits.splitlines():
        if line.startswith("Max realtime timeout"):
            soft = line[len("Max realtime timeout") :].split()[0]
            return None if soft == "unlimited" else _int(soft)
    return None


def _cpuset(cgroup: str) -> str | None:
    for line in cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and "cpuset" in parts[1].split(","):
            return parts[2]
    return None


def parse_os(text: str) -> dict[str, Any]:
    """The os probe's JSON -> cpus, policy, priority, nice, RLIMIT_RTTIME (us), cpuset, env."""
    raw = json.loads(text)
    status, stat = raw.get("status") or "", raw.get("stat") or ""
    fields = _stat_fields(stat)
    allowed = _status_field(status, "Cpus_allowed_list")
    try:
        cpus = parse_cpulist(allowed) if allowed is not None else None
    except CpuListError:
        cpus = None
    policy = _int(fields[38]) if len(fields) > 38 else None
    return {
        "cpus_allowed": cpus,
        "policy": POLICY_NAMES.get(policy, str(policy)) if policy is not None else None,
        "priority": _int(fields[37]) if len(fields) > 37 else None,
        "nice": _int(fields[16]) if len(fields) > 16 else None,
        "rttime_us": _rttime(raw.get("limits") or ""),
        "cpuset": _cpuset(raw.get("cgroup") or ""),
        "env": dict(raw.get("env") or {}),
    }


def _bindings(text: str) -> list[int | None]:
    inner = text.strip().strip("[]")
    return [None if item.strip() == "u" else int(item) for item in inner.split(",") if item.strip()]


def parse_erlang(text: str) -> dict[str, Any]:
    values = key_values(text)
    if "schedulers_online" not in values:
        raise ValueError("no schedulers_online in the erlang probe's output")
    out: dict[str, Any] = {k: _int(v) if _int(v) is not None else v for k, v in values.items()}
    out["scheduler_bindings"] = _bindings(values.get("scheduler_bindings", "[]"))
    return out


def parse_go(text: str) -> dict[str, Any]:
    values = key_values(text)
    if _int(values.get("gomaxprocs")) is None:
        raise ValueError("no gomaxprocs in the go probe's output")
    return {
        "gomaxprocs": _int(values["gomaxprocs"]),
        "numcpu": _int(values.get("numcpu")),
        "version": values.get("version"),
    }


def parse_jvm(text: str) -> dict[str, Any]:
    values = key_values(text)
    if _int(values.get("available_processors")) is None:
        raise ValueError("no available_processors in the jvm probe's output")
    return {
        "available_processors": _int(values["available_processors"]),
        "version": values.get("version"),
    }


PARSERS = {"os": parse_os, "erlang": parse_erlang, "go": parse_go, "jvm": parse_jvm}


def parse(kind: str, text: str) -> dict[str, Any]:
    """A probe's answer as data; ValueError when the output is not what the probe prints."""
    try:
        return PARSERS[kind](text)
    except (AttributeError, TypeError) as exc:
        raise ValueError(f"unreadable {kind} probe output: {exc}") from None
