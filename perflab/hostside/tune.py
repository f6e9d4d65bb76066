"""Apply and revert host preparation, recording exact previous values first (stdlib only).

Request (JSON on stdin)::

    {"action": "apply" | "restore" | "status" | "annotate",
     "state_file": "/var/lib/perflab/state.json",
     "owner": {"kind": "run" | "prepare", "what": "run 0904227a", "pid": 1234, ...},
     "root": "/",                       # prefix for /sys and /proc paths (fake sysfs in tests)
     "profile": "shield", "changes": [{"knob": "governor", "target": "...", "ops": [...]}]}

Operations (``ops``), each recording its own revert in the state file *before*
it touches anything, so ``restore`` from a new process after a crash puts
every value back:

    {"op": "write", "path": P, "value": V, "bracket": false, "must": true,
     "revert_value": optional}
        previous value read just before writing (``bracket``: the [selected] word
        of files like transparent_hugepage/enabled); a path already recorded keeps
        its first (original) value, so applying twice never loses it; files whose
        read-back is not how they are undone say so (``revert_value``)
    {"op": "action", "path": P, "value": V}         write without revert (drop_caches)
    {"op": "mkdir", "path": P}                      revert: rmdir (only if created here)
    {"op": "move_tasks", "src": DIR, "dst": DIR, "file": "tasks", "exclude": [pids]}
        every task listed in DIR/file moves; failures (per-CPU kernel threads) are
        reported; the moved tasks' affinities are recorded; revert moves all back
    {"op": "freeze", "pids": [...], "method": "cgroup" | "signal", "cgroup": DIR}
        revert: thaw and return each task to its original freezer cgroup / SIGCONT
    {"op": "command", "argv": [...], "revert_argv": [...]}   (services)

Answer: {"applied": [...], "failed": [...], "unmovable": [...], "restored": [...], ...}
(restore also answers "gone": written paths that no longer exist, so nothing to put back)
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Dict, Set  # noqa: F401 (type comments, for Python 3.8 hosts)

ROOT = "/"


def real(path):
    if ROOT in ("", "/") or not path.startswith("/"):
        return path
    return ROOT.rstrip("/") + path


def read(path):
    try:
        with open(real(path)) as handle:
            return handle.read()
    except OSError:
        return None


def write(path, value):
    with open(real(path), "w") as handle:
        handle.write(str(value))


def selected(text):
    """The [bracketed] word of "always [madvise] never", else the stripped text."""
    text = (text or "").strip()
    if "[" in text and "]" in text:
        return text[text.index("[") + 1 : text.index("]")]
    return text


# -- the state file ------------------------------------------------------------------------


class State:
    def __init__(self, path):
        self.path = path
        self.data = None  # type: Any
        text = None
        try:
            with open(path) as handle:
                text = handle.read()
        except OSError:
            pass
        if text:
            self.data = json.loads(text)

    def ensure(self, profile, owner=None):
        """``owner``: who prepares ({"kind": "run" | "prepare", "what", "pid", "host",
        "since"}); a "run" preparation is undone when its run ends, so finding one with
        the host lock in hand means its controller died (a stale preparation)."""
        if self.data is None:
            self.data = {
                "version": 1,
                "profile": profile,
                "created": time.time(),
                "pid": os.getpid(),
                "entries": [],
                "moved": {},
                "owner": owner,
                "complete": False,
            }
        elif profile and profile not in self.data["profile"].split("+"):
            self.data["profile"] += "+" + profile

    def recorded(self, key):
        return any(e.get("key") == key for e in self.data["entries"])

    def record(self, knob, key, revert):
        self.data["entries"].append({"knob": knob, "key": key, "revert": revert})
        self.save()

    def save(self):
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(self.data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def remove(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


# -- apply ---------------------------------------------------------------------------------


def op_write(state, knob, op, out):
    path = op["path"]
    before = read(path)
    if before is None and state.recorded("mkdir:" + os.path.dirname(path)):
        # a file of a cgroup perflab created: removing the cgroup undoes it
        write(path, op["value"])
        out["applied"].append({"knob": knob, "path": path, "old": None, "new": op["value"]})
        return
    if before is None:
        raise OSError(errno.ENOENT, "cannot read %s" % path)
    previous = selected(before) if op.get("bracket") else before.strip()
    if not state.recorded("write:" + path):
        undo = op.get("revert_value", previous)  # e.g. "-cpuset" for cgroup.subtree_control
        state.record(
            knob,
            "write:" + path,
            {"op": "write", "path": path, "value": undo, "force": "revert_value" in op},
        )
    if previous != str(op["value"]):
        write(path, op["value"])
    out["applied"].append({"knob": knob, "path": path, "old": previous, "new": op["value"]})


def op_mkdir(state, knob, op, out):
    path = op["path"]
    if os.path.isdir(real(path)):
        return
    os.mkdir(real(path))
    state.record(knob, "mkdir:" + path, {"op": "rmdir", "path": path})
    out["applied"].append({"knob": knob, "path": path, "old": None, "new": "created"})


def _affinity(tid):
    for line in (read("/proc/%s/status" % tid) or "").splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    return None


def op_move_tasks(state, knob, op, out):
    name = op.get("file", "tasks")
    src, dst = op["src"], op["dst"]
    exclude = {str(p) for p in op.get("exclude", [])}
    key = "move:%s->%s" % (src, dst)
    if not state.recorded(key):
        state.record(knob, key, {"op": "move_tasks", "src": dst, "dst": src, "file": name})
    moved = 0
    for tid in (read(src + "/" + name) or "").split():
        if tid in exclude:
            continue
        affinity = _affinity(tid)
        try:
            write(dst + "/" + name, tid)
            moved += 1
            state.data["moved"].setdefault(tid, {"cpus": affinity, "start": _start_time(tid)})
        except OSError as exc:
            if exc.errno != errno.ESRCH:  # gone meanwhile: nothing to report
                comm = (read("/proc/%s/comm" % tid) or "?").strip()
                out["unmovable"].append(
                    {"tid": int(tid), "comm": comm, "error": os.strerror(exc.errno or 0)}
                )
    state.save()
    out["applied"].append({"knob": knob, "path": dst, "old": src, "new": "%d tasks" % moved})


def op_freeze(state, knob, op, out):
    pids = [str(p) for p in op["pids"]]
    if op.get("method") == "signal":
        for pid in pids:
            state.record(knob, "stop:" + pid, {"op": "cont", "pid": pid, "start": _start_time(pid)})
            try:
                os.kill(int(pid), signal.SIGSTOP)
            except ProcessLookupError:
                continue
        out["applied"].append({"knob": knob, "path": "SIGSTOP", "old": None, "new": pids})
        return
    group = op["cgroup"]
    op_mkdir(state, knob, {"path": group}, out)
    origins = {}
    for pid in pids:
        for line in (read("/proc/%s/cgroup" % pid) or "").splitlines():
            parts = line.split(":", 2)
            if len(parts) == 3 and "freezer" in parts[1].split(","):
                origins[pid] = parts[2]
    state.record(
        knob,
        "freeze:" + group,
        {
            "op": "thaw",
            "cgroup": group,
            "origins": origins,
            "mount": op.get("mount", "/sys/fs/cgroup/freezer"),
        },
    )
    for pid in pids:
        try:
            write(group + "/cgroup.procs", pid)
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
    write(group + "/freezer.state", "FROZEN")
    deadline = time.monotonic() + 5
    while (read(group + "/freezer.state") or "").strip() == "FREEZING":
        if time.monotonic() > deadline:
            raise OSError(errno.EBUSY, "processes did not freeze within 5 s")
        time.sleep(0.01)
    out["applied"].append({"knob": knob, "path": group, "old": None, "new": pids})


def _start_time(pid):
    text = read("/proc/%s/stat" % pid) or ""
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def op_command(state, knob, op, out):
    key = "command:" + " ".join(op["argv"])
    recorded = bool(op.get("revert_argv")) and not state.recorded(key)
    if recorded:
        state.record(knob, key, {"op": "command", "argv": op["revert_argv"]})
    done = subprocess.run(op["argv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if done.returncode != 0:
        if recorded:  # it changed nothing: its revert would fail and block every restore
            state.data["entries"].pop()
            state.save()
        raise OSError(
            errno.EIO,
            "%s: %s" % (" ".join(op["argv"]), done.stderr.decode(errors="replace").strip()),
        )
    out["applied"].append({"knob": knob, "path": " ".join(op["argv"]), "old": None, "new": "ok"})


def op_action(state, knob, op, out):
    write(op["path"], op["value"])
    out["applied"].append({"knob": knob, "path": op["path"], "old": None, "new": op["value"]})


APPLY = {
    "write": op_write,
    "mkdir": op_mkdir,
    "move_tasks": op_move_tasks,
    "freeze": op_freeze,
    "command": op_command,
    "action": op_action,
}


def apply(request, state):
    out = {"applied": [], "failed": [], "unmovable": []}  # type: Dict[str, Any]
    state.ensure(request.get("profile") or "", request.get("owner"))
    state.save()
    for change in request.get("changes", []):
        for op in change["ops"]:
            try:
                APPLY[op["op"]](state, change["knob"], op, out)
            except (OSError, subprocess.SubprocessError) as exc:
                failure = {
                    "knob": change["knob"],
                    "target": op.get("path") or op.get("op"),
                    "error": getattr(exc, "strerror", None) or str(exc),
                }
                out["failed"].append(failure)
                if op.get("must", True):
                    out["aborted"] = failure
                    return out
    return out


# -- revert --------------------------------------------------------------------------------


def revert_one(revert, state):
    kind = revert["op"]
    if kind == "write":
        current = read(revert["path"])
        if revert.get("force") or current is None or current.strip() != revert["value"]:
            write(revert["path"], revert["value"])
    elif kind == "rmdir":
        remove_cgroup(revert["path"])
    elif kind == "move_tasks":
        name = revert.get("file", "tasks")
        for _ in range(3):  # tasks forked while moving are caught on the next pass
            tids = (read(revert["src"] + "/" + name) or "").split()
            if not tids:
                break
            for tid in tids:
                try:
                    write(revert["dst"] + "/" + name, tid)
                except OSError as exc:
                    if exc.errno != errno.ESRCH:
                        raise
    elif kind == "thaw":
        group = revert["cgroup"]
        if os.path.isdir(real(group)):
            write(group + "/freezer.state", "THAWED")
            for pid in (read(group + "/cgroup.procs") or "").split():
                origin = revert["origins"].get(pid, "/")
                try:
                    write(revert["mount"] + origin.rstrip("/") + "/cgroup.procs", pid)
                except OSError as exc:
                    if exc.errno != errno.ESRCH:
                        raise
            os.rmdir(real(group))
    elif kind == "cont":
        if revert.get("start") is None or _start_time(revert["pid"]) == revert["start"]:
            try:
                os.kill(int(revert["pid"]), signal.SIGCONT)
            except ProcessLookupError:
                pass
    elif kind == "command":
        subprocess.run(
            revert["argv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=True
        )


def remove_cgroup(path):
    """rmdir a directory; a cgroup's leftover tasks move to its parent first."""
    if not os.path.isdir(real(path)):
        return
    parent = os.path.dirname(path.rstrip("/"))
    for name in ("tasks", "cgroup.procs"):
        if os.path.exists(real(path + "/" + name)):
            for tid in (read(path + "/" + name) or "").split():
                try:
                    write(parent + "/" + name, tid)
                except OSError as exc:
                    if exc.errno != errno.ESRCH:
                        raise
            break
    for attempt in range(50):  # a task that just exited may hold the cgroup briefly
        try:
            os.rmdir(real(path))
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or attempt == 49:
                raise
            time.sleep(0.02)


def gone(revert):
    """A file to write back that no longer exists (an IRQ whose device went away, the
    cpufreq files of a CPU now offline): nothing to restore, and no reason to stop."""
    return revert["op"] == "write" and not os.path.exists(real(revert["path"]))


def cpu_set(text):
    """{0, 2, 3} from "0,2-3"."""
    cpus = set()  # type: Set[int]
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            cpus.update(range(int(low), int(high) + 1))
        elif part.strip():
            cpus.add(int(part))
    return cpus


def restore_affinity(moved):
    """Give every moved task (still the same task: same start time) the CPU affinity it
    had before the move. Kernels before 6.2 forget a task's own pin when a cpuset
    narrows it; newer ones keep it, and then this changes nothing. Returns the tasks
    set back and those whose affinity could not be (with the reason)."""
    restored, changed = [], []
    for tid, before in moved.items():
        if not isinstance(before, dict):  # a state file from before start times were kept
            before = {"cpus": before, "start": None}
        now = _affinity(tid)
        if before["cpus"] is None or now is None or now == before["cpus"]:
            continue  # unknown, gone, or as it was
        if before["start"] is not None and _start_time(tid) != before["start"]:
            continue  # the tid belongs to another task now
        try:
            os.sched_setaffinity(int(tid), cpu_set(before["cpus"]))
            restored.append({"tid": int(tid), "before": before["cpus"], "was": now})
        except (OSError, ValueError) as exc:
            changed.append(
                {
                    "tid": int(tid),
                    "before": before["cpus"],
                    "now": now,
                    "error": getattr(exc, "strerror", None) or str(exc),
                }
            )
    return restored, changed


def restore(request, state):
    out = {
        "restored": [],
        "failed": [],
        "gone": [],
        "affinity_restored": [],
        "affinity_changed": [],
    }  # type: Dict[str, Any]
    if state.data is None:
        out["nothing"] = True
        return out
    entries = state.data["entries"]
    while entries:
        entry = entries[-1]
        try:
            if gone(entry["revert"]):
                out["gone"].append(entry["revert"]["path"])
            else:
                revert_one(entry["revert"], state)
                out["restored"].append({"knob": entry["knob"], "key": entry["key"]})
        except (OSError, subprocess.SubprocessError) as exc:
            out["failed"].append(
                {
                    "knob": entry["knob"],
                    "key": entry["key"],
                    "error": getattr(exc, "strerror", None) or str(exc),
                }
            )
            state.save()
            return out
        entries.pop()
        state.save()
    out["affinity_restored"], out["affinity_changed"] = restore_affinity(
        state.data.get("moved", {})
    )
    state.remove()
    return out


def main():
    global ROOT
    request = json.loads(sys.stdin.read())
    ROOT = request.get("root") or "/"
    state = State(request["state_file"])
    action = request["action"]
    if action == "apply":
        answer = apply(request, state)
    elif action == "restore":
        answer = restore(request, state)
    elif action == "annotate":
        if state.data is not None:  # the last step of a preparation: it is complete
            state.data.setdefault("notes", {}).update(request.get("notes") or {})
            state.data["complete"] = True
            state.save()
        answer = {"state": state.data}
    else:
        answer = {"state": state.data}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
