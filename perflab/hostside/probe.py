"""Read host state in one round trip (stdlib only, Python 3.8+).

Request (JSON on stdin)::

    {"root": "/" ,                      # prefix for absolute paths (a fake sysfs in tests)
     "files": ["/proc/loadavg", "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor"],
     "commands": {"git_head": {"argv": ["git", "rev-parse", "HEAD"], "cwd": "/w"}},
                                                   # optional "path": the PATH to find argv[0] in
     "processes": {"interval": 0.25, "top": 10},   # or null
     "self": true}                                 # facts about the probe's own process

Answer (JSON on stdout)::

    {"files": {"/proc/loadavg": "0.1 ...", "/sys/.../scaling_governor": null},
     "globs": {"pattern": ["/sys/..."]},
     "commands": {"git_head": {"exit": 0, "stdout": "...", "stderr": ""}},
     "processes": [{"pid": 1, "comm": "init", "cpu_percent": 0.0, "cpus_allowed": "0-1",
                    "state": "S", "cmdline": "...", "ppid": 0, "session": 1}],
     "self": {"pid": ..., "ppid": ..., "cgroup": "...", "uid": 0, "machine": "x86_64",
              "system": "Linux"}}

Unreadable files answer null; paths in the answer are the requested
(unprefixed) ones, so the controller never sees the test root.

Start-up is most of a probe's cost on the host, so it imports little: no
``glob`` (:func:`expand` does the same with ``fnmatch``), and ``subprocess``
only when there are commands to run.
"""

import fnmatch
import json
import os
import sys
import time

MAX_FILE = 1 << 20


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_FILE).decode("utf-8", "replace")
    except OSError:
        return None


def _magic(text):
    return "*" in text or "?" in text or "[" in text


def expand(pattern):
    """What ``glob.glob(pattern)`` finds (unsorted), without importing glob.

    Same rules: a wildcard does not match a leading "." unless the pattern's
    part starts with one, a part without wildcards must exist (a broken
    symlink counts), and a trailing "/" matches directories only.
    """
    if not _magic(pattern):
        return [pattern] if os.path.lexists(pattern) else []
    head, tail = os.path.split(pattern)
    parents = expand(head) if head != pattern and _magic(head) else [head]
    found = []
    for parent in parents:
        if not tail:
            if os.path.isdir(parent):
                found.append(os.path.join(parent, ""))
        elif _magic(tail):
            try:
                names = [entry.name for entry in os.scandir(parent or ".")]
            except OSError:
                continue
            if not tail.startswith("."):
                names = [n for n in names if not n.startswith(".")]
            found += [os.path.join(parent, n) for n in fnmatch.filter(names, tail)]
        elif os.path.lexists(os.path.join(parent, tail)):
            found.append(os.path.join(parent, tail))
    return found


def read_files(root, patterns):
    files, globs = {}, {}
    for pattern in patterns:
        real = root.rstrip("/") + pattern if root not in ("", "/") else pattern
        if any(ch in pattern for ch in "*?["):
            matches = sorted(expand(real))
            names = [m[len(real) - len(pattern) :] if real != pattern else m for m in matches]
            globs[pattern] = names
            for name, match in zip(names, matches):
                files[name] = read(match)
        else:
            files[pattern] = read(real)
    return files, globs


def run_commands(commands):
    if not commands:
        return {}
    import subprocess

    out = {}
    for name, spec in commands.items():
        env = None
        if spec.get("path") is not None:  # found as the job's own PATH finds it
            env = dict(os.environ)
            env["PATH"] = spec["path"]
        try:
            done = subprocess.run(
                spec["argv"],
                cwd=spec.get("cwd"),
                stdin=subprocess.DEVNULL,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=spec.get("timeout", 10),
            )
            out[name] = {
                "exit": done.returncode,
                "stdout": done.stdout.decode("utf-8", "replace"),
                "stderr": done.stderr.decode("utf-8", "replace")[-2000:],
            }
        except (OSError, subprocess.SubprocessError) as exc:
            out[name] = {"exit": None, "stdout": "", "stderr": str(exc)}
    return out


def _stat(pid):
    text = read("/proc/%s/stat" % pid)
    if not text:
        return None
    close = text.rfind(")")
    comm = text[text.find("(") + 1 : close]
    fields = text[close + 2 :].split()
    # fields[0] is state (field 3); utime/stime are fields 14/15 -> index 11/12
    return {
        "comm": comm,
        "state": fields[0],
        "ppid": int(fields[1]),
        "session": int(fields[3]),
        "ticks": int(fields[11]) + int(fields[12]),
        "kthread": int(fields[6]) & 0x00200000 != 0,
    }


def _status_field(pid, key):
    text = read("/proc/%s/status" % pid) or ""
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return None


def sample_processes(interval, top):
    def snapshot():
        out = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                stat = _stat(name)
                if stat:
                    out[int(name)] = stat
        return out

    first = snapshot()
    start = time.monotonic()
    time.sleep(interval)
    second = snapshot()
    elapsed = time.monotonic() - start
    hz = os.sysconf("SC_CLK_TCK")
    rows = []
    for pid, stat in second.items():
        before = first.get(pid)
        delta = stat["ticks"] - before["ticks"] if before else 0
        cmdline = (read("/proc/%s/cmdline" % pid) or "").replace("\0", " ").strip()
        rows.append(
            {
                "pid": pid,
                "comm": stat["comm"],
                "state": stat["state"],
                "ppid": stat["ppid"],
                "session": stat["session"],
                "kthread": stat["kthread"],
                "cpu_percent": round(100.0 * delta / hz / elapsed, 1),
                "cpus_allowed": _status_field(pid, "Cpus_allowed_list"),
                "cmdline": cmdline[:300],
                "self": pid == os.getpid(),
            }
        )
    rows.sort(key=lambda r: (-r["cpu_percent"], r["pid"]))
    return rows[:top] if top else rows


def _cpu_stat_files(cgroup_text):
    """cpu.stat (throttling counters) of this process's cgroups, v1 and v2."""
    found = {}
    for line in (cgroup_text or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1].split(","), parts[2]
        if parts[1] == "":
            bases = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        elif "cpu" in controllers:
            bases = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]
        else:
            continue
        for base in bases:
            candidate = base + path.rstrip("/") + "/cpu.stat"
            text = read(candidate)
            if text is not None:
                found[candidate] = text
                break
    return found


def self_facts():
    cgroup = read("/proc/self/cgroup")
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "uid": os.geteuid(),
        "machine": os.uname().machine,
        "system": os.uname().sysname,
        "cgroup": cgroup,
        "cpu_stat": _cpu_stat_files(cgroup),
        "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }


def main():
    request = json.loads(sys.stdin.read() or "{}")
    answer = {}
    answer["files"], answer["globs"] = read_files(
        request.get("root", "/"), request.get("files", [])
    )
    answer["commands"] = run_commands(request.get("commands", {}))
    procs = request.get("processes")
    if procs:
        answer["processes"] = sample_processes(procs.get("interval", 0.25), procs.get("top", 10))
    if request.get("self"):
        answer["self"] = self_facts()
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
