"""Run a job's steps on the host and time each one there (stdlib only, Python 3.8+).

Request (one JSON line on stdin)::

    {"workdir": "/abs", "rundir": "/abs/outputs", "env": {...}, "cpus": [1] | null,
     "watch_stdin": true,     # stdin stays open; EOF = the controller is gone: stop
     "cgroups": ["/sys/fs/cgroup/cpuset/perflab-shield/tasks"], "job_timeout": 3600 | null,
     "nice": null, "check": [{"program": "./bench", "field": "benchmarks[0].command"}],
     "require": [{"program": "erl", "field": "pin.runtime", "message": "..."}],
     "sched": {"policy": "other|fifo|rr", "priority": 0, "nice": 5 | null,
               "rttime_us": 2000000 | null, "field": "pin.policy"} | null,
     "steps": [{"id": "b0-r3", "kind": "setup|warmup|run", "argv": [...] | null,
                "shell": "..." | null, "env": {...}, "timeout": 60, "output": "file" | null}]}

Events, one JSON object per line on stdout, flushed as they happen::

    {"event": "start", "pid": ..., "cpus": [..], "cgroups": [..],
     "logs": {"stdout": "<rundir>/stdout.log", "stderr": "<rundir>/stderr.log"},
     "contention": {"source": "cpuacct" | "proc_stat", "window_ns": ...} | null}
    {"event": "step", "id": ..., "exit": 0, "signal": null, "timed_out": false,
     "wall_ns": ..., "user_ns": ..., "sys_ns": ..., "maxrss_kb": ..., "nvcsw": ..,
     "nivcsw": .., "stdout": [start, end], "stderr": [start, end],
     "output": path | null, "error": null,
     "other": 0.48, "steal": 0.0, "runnable": 3, "window": 1}   (measured steps: Contention)
    (a counted step, ``"count": {...}``, adds ``"counted"``: see counting.py)

Every step's stdout and stderr are appended to the two logs (opened once, before
any clock starts); a step's output is the byte range its event names. Events of
repetitions shorter than BATCH_S are sent in batches (at most BATCH_S apart), so
the controller is not woken for every short repetition; a batch is sent before a
step of another benchmark or kind starts, and before the harness ends.
    {"event": "missing", "items": [{"program": ..., "field": ...}]}   (nothing measured)
    {"event": "refused", "items": [{"field": ..., "message": ...}]}   (nothing started)

``require`` names programs that must exist before anything starts (a runtime the
job pins). ``sched`` is tried first in a throwaway child (a host that does not
allow the policy or nice value refuses the job, nothing started); then it applies
to every step but the setup steps: nice and RLIMIT_RTTIME (the runtime limit of a
real-time policy) are set on the harness after the setup steps, and inherited;
the policy is set by posix_spawn on each child, so the harness itself stays an
ordinary task that can always enforce timeouts.
    {"event": "done", "interrupted": false, "job_timed_out": false}

Each step runs in a process group of its own, which is killed whole on a
timeout, on SIGINT/SIGTERM to the harness, and after the step exits (so no
stray grandchild outlives its repetition). Steps are started by a tiny static
spawner process on x86-64 Linux (:class:`Spawner`: a step's max RSS is then its
own, not the harness's), else by posix_spawn. Timing is the monotonic clock
around spawn and wait4; CPU time, max RSS and context switches come from
wait4's rusage. Measured steps also carry the contamination evidence of
:class:`Contention`. A failing setup step stops the job; a failing repetition is
recorded and the job goes on (the controller marks the run failed).
"""

import base64
import errno
import fcntl
import json
import os
import shutil
import signal
import struct
import sys
import time
from typing import Any, Dict, List  # noqa: F401 (type comments, for Python 3.8 hosts)

_state = {"child": 0, "timed_out": False, "interrupted": False, "orphaned": False}
#: events of short repetitions are sent in batches: at most this long after the last send
#: (one write and one wake-up of the controller per batch, not per repetition)
BATCH_S = 0.05
_sent = {"at": 0.0}
_pending = []  # type: List[bytes]
#: events are flat dicts of numbers, strings and short lists: no cycle check needed
_encode = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode


def _write_all(data):
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(1, view) :]
    except BrokenPipeError:  # the controller is gone: stop the benchmark, end here
        _kill_group(_state["child"])
        os._exit(1)


def emit(event, batch=False):
    """Send one event line (stdout is written directly: PYTHONUNBUFFERED or not, a batch
    is one write)."""
    _pending.append((_encode(event) + "\n").encode())
    now = time.monotonic()
    if not batch or now - _sent["at"] >= BATCH_S:
        send_pending(now)


def send_pending(now=None):
    """Send batched events now (before a step that may take long, so none waits on it)."""
    if _pending:
        data = b"".join(_pending)
        del _pending[:]
        _write_all(data)
        _sent["at"] = time.monotonic() if now is None else now


def _kill_group(pgid):
    if pgid:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _on_alarm(signum, frame):
    _state["timed_out"] = True
    _kill_group(_state["child"])


def _on_stop(signum, frame):
    _state["interrupted"] = True
    _kill_group(_state["child"])


def read_request():
    """The request: one JSON line (then stdin may stay open, see ``watch_stdin``), or
    a whole JSON document up to EOF."""
    first = sys.stdin.buffer.readline()
    try:
        return json.loads(first.decode("utf-8"))
    except ValueError:
        return json.loads((first + sys.stdin.buffer.read()).decode("utf-8"))


def _watch_stdin():
    """``watch_stdin``: the controller keeps our stdin open while it listens; EOF means it
    died or lost the connection, so nobody will restore the host after this job or read
    its results. Stop as on SIGTERM: the benchmark's process group dies, no more steps."""
    import threading

    def watch():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        _state["orphaned"] = True
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="perflab-stdin-watch", daemon=True).start()


def _enter_cgroups(paths):
    entered = []
    for path in paths or []:
        with open(path, "w") as handle:
            handle.write(str(os.getpid()))
        entered.append(path)
    return entered


def open_logs(rundir):
    """One stdout and one stderr log for all steps, opened once (creating a file per step
    costs more than spawning `true` on some filesystems); steps get byte ranges of them."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    paths = {name: os.path.join(rundir, name + ".log") for name in ("stdout", "stderr")}
    fds = {name: os.open(path, flags, 0o644) for name, path in paths.items()}
    fds["stdin"] = os.open(os.devnull, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    return paths, fds


def _size(fd):
    """The log's length (seeking to the end: an int, cheaper than a stat result; the logs
    are opened O_APPEND, so where the offset stands changes nothing for writers)."""
    return os.lseek(fd, 0, os.SEEK_END)


_programs = {}  # type: Dict[Any, Any]


def prepare_step(step, base_env, merged=True):
    """The program path, argv, environment (None unless ``merged``) and the step's own
    variables (overrides). The PATH search is done once per program (not by posix_spawnp
    in every repetition's measured time)."""
    argv = [str(a) for a in step["argv"]] if step.get("argv") else ["/bin/sh", "-c", step["shell"]]
    overrides = {k: str(v) for k, v in step["env"].items()} if step.get("env") else {}
    env = None
    if merged:
        env = base_env
        if overrides:
            env = dict(base_env)
            env.update(overrides)
    program = argv[0]
    if "/" not in program:
        key = (program, overrides.get("PATH", base_env.get("PATH", os.defpath)))
        if key not in _programs:
            _programs[key] = shutil.which(program, path=key[1]) or program
        program = _programs[key]
    return program, argv, env, overrides


#: signals a step starts with at their default action (SIGPIPE: Python ignores it)
_SIGDEF = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGPIPE)


def _spawn(program, argv, env, fds, scheduler=None):
    actions = [
        (os.POSIX_SPAWN_DUP2, fds[name], target)
        for target, name in enumerate(("stdin", "stdout", "stderr"))
    ]
    extra = {"scheduler": scheduler} if scheduler is not None else {}
    return os.posix_spawn(
        program, argv, env, file_actions=actions, setpgroup=0, setsigdef=_SIGDEF, **extra
    )


class FastSpawn:
    """posix_spawn called through ctypes, with the argument arrays, the file actions and
    the attributes built before the clock starts (CPython's os.posix_spawn converts argv,
    the whole environment and the file actions on every call, inside the measured time).
    Same semantics as :func:`_spawn`: stdin/stdout/stderr from ``fds``, a process group
    of its own, _SIGDEF at their defaults. glibc on Linux only; :meth:`create` returns
    None elsewhere (or with PERFLAB_SPAWN=os), and the harness uses :func:`_spawn`.
    Where the :class:`Spawner` works (x86-64 Linux), it is used instead; a step spawned
    here starts with the harness's peak RSS as its own (see there)."""

    SETPGROUP, SETSIGDEF = 0x02, 0x04  # <spawn.h>, the same in glibc and musl
    BUFFER = 1024  # bigger than posix_spawnattr_t (336), file actions (80), sigset_t (128)

    @classmethod
    def create(cls, fds, base_env):
        if os.environ.get("PERFLAB_SPAWN") == "os" or not sys.platform.startswith("linux"):
            return None
        try:
            if not os.confstr("CS_GNU_LIBC_VERSION"):
                return None
            return cls(fds, base_env)
        except (ImportError, OSError, ValueError, AttributeError):
            return None

    def __init__(self, fds, base_env):
        import ctypes

        self.ct = ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        self.call = libc.posix_spawn
        self.call.restype = ctypes.c_int
        self.call.argtypes = [
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.actions = ctypes.create_string_buffer(self.BUFFER)
        self.attr = ctypes.create_string_buffer(self.BUFFER)
        sigset = ctypes.create_string_buffer(self.BUFFER)
        checks = [libc.posix_spawn_file_actions_init(self.actions)]
        checks += [
            libc.posix_spawn_file_actions_adddup2(self.actions, fds[name], target)
            for target, name in enumerate(("stdin", "stdout", "stderr"))
        ]
        checks += [libc.posix_spawnattr_init(self.attr), libc.sigemptyset(sigset)]
        checks += [libc.sigaddset(sigset, int(sig)) for sig in _SIGDEF]
        checks += [
            libc.posix_spawnattr_setsigdefault(self.attr, sigset),
            libc.posix_spawnattr_setpgroup(self.attr, 0),
            libc.posix_spawnattr_setflags(
                self.attr, ctypes.c_short(self.SETPGROUP | self.SETSIGDEF)
            ),
        ]
        if any(checks):
            raise OSError("posix_spawn attributes could not be set up")
        self.pid = ctypes.c_int()
        self.pid_ref = ctypes.byref(self.pid)
        self.base = [(k, os.fsencode(k + "=" + v)) for k, v in base_env.items()]
        self.envs = {}  # type: Dict[Any, Any]
        self.argvs = {}  # type: Dict[Any, Any]

    def _array(self, items):
        array = (self.ct.c_char_p * (len(items) + 1))(*items)
        array[len(items)] = None
        return array

    def prepare(self, program, argv, overrides):
        """The call's arguments, built before the clock starts."""
        key = tuple(argv)
        args = self.argvs.get(key)
        if args is None:
            args = self.argvs[key] = (
                os.fsencode(program),
                self._array([os.fsencode(a) for a in argv]),
            )
        names = tuple(overrides)
        env = self.envs.get(names)
        if env is None:  # the step's variables first, then the rest of the base
            rest = [entry for name, entry in self.base if name not in overrides]
            env = self.envs[names] = self._array([b""] * len(names) + rest)
        for slot, name in enumerate(names):
            env[slot] = os.fsencode(name + "=" + overrides[name])
        return args[0], args[1], env

    @staticmethod
    def wait(pid):
        """(wait status, rusage) of the step ``pid``."""
        return os.wait4(pid, 0)[1:]

    def close(self):
        pass

    def spawn(self, prepared):
        program, argv, env = prepared
        error = self.call(self.pid_ref, program, self.actions, self.attr, argv, env)
        if error:
            raise OSError(error, os.strerror(error))
        return self.pid.value


class Contention:
    """Other tasks' use of the benchmark's CPUs while its repetitions ran.

    Per window of measured steps: the CPUs' busy time (ns from the root cgroup's
    cpuacct.usage_percpu where it is readable, else the /proc/stat columns in clock
    ticks), minus the steps' own CPU time (wait4's rusage) and the harness's, over the
    window's span times the number of CPUs; steal time from /proc/stat likewise; the
    runnable tasks /proc/stat counts at its end (all CPUs: per-CPU run queues are not
    readable without schedstats or debugfs). A window opens before a measured step
    starts and closes after the step that ends at least WINDOW_NS after it opened, or
    before a step of another benchmark or kind: repetitions shorter than that share a
    window (two reads of two small files per window, not per repetition, keep the
    harness's cost per repetition), longer ones have their own. The spawner's CPU time
    (/proc/PID/schedstat, ns) counts as the harness's. Every step of a window
    gets its figures: ``other`` and ``steal`` (fractions of the CPUs' time),
    ``runnable``, ``window`` (steps in it)."""

    WINDOW_NS = 50000000
    TICK_WINDOW_NS = 250000000  # /proc/stat counts 10 ms ticks: +-4% at 250 ms
    CPUACCT = "/sys/fs/cgroup/cpuacct/cpuacct.usage_percpu"

    def __init__(self, cpus):
        self.cpus = list(cpus)
        self.tick_ns = 1e9 / os.sysconf("SC_CLK_TCK")
        self.names = set(b"cpu%d" % c for c in self.cpus)
        self.stat = os.open("/proc/stat", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self.acct = (
            None
            if os.environ.get("PERFLAB_CONTENTION") == "proc_stat"
            else self._open_acct(max(self.cpus))
        )
        self.source = "cpuacct" if self.acct is not None else "proc_stat"
        self.window_ns = self.WINDOW_NS if self.acct is not None else self.TICK_WINDOW_NS
        self.opened = None  # type: Any
        self.events = []  # type: List[Dict[str, Any]]
        self.helper = None  # type: Any

    def watch(self, pid):
        """Count process ``pid`` (the spawner) as the harness's own, not as others'."""
        if self.helper is not None:
            os.close(self.helper)
        try:
            self.helper = os.open(
                "/proc/%d/schedstat" % pid, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
            )
        except OSError:
            self.helper = None

    def _own_ns(self):
        own = time.process_time_ns()
        if self.helper is not None:
            try:
                own += int(os.pread(self.helper, 128, 0).split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return own

    @classmethod
    def _open_acct(cls, highest):
        """The root cpuacct's per-CPU usage (ns), when readable and covering our CPUs."""
        try:
            fd = os.open(cls.CPUACCT, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            if len(os.pread(fd, 65536, 0).split()) > highest:
                return fd
        except OSError:
            pass
        os.close(fd)
        return None

    @classmethod
    def create(cls, cpus):
        """PERFLAB_CONTENTION=off: nothing recorded; =proc_stat: /proc/stat only."""
        if os.environ.get("PERFLAB_CONTENTION") == "off" or not cpus:
            return None
        try:
            return cls(cpus)
        except (OSError, ValueError):  # no /proc/stat (not Linux): nothing recorded
            return None

    def snapshot(self):
        """(monotonic ns, busy ns, steal ns, runnable, harness CPU ns). The harness's own
        CPU time is read first: reading it brings the running harness's pending time into
        the CPU's accounting, so the busy time read next includes it (else a read lags by
        up to a scheduler tick, and a short window's share by up to ~8%)."""
        own = self._own_ns()
        stat = os.pread(self.stat, 65536, 0)
        busy = steal = 0.0
        runnable = None
        for line in stat.split(b"\n"):
            fields = line.split()
            if not fields:
                continue
            if fields[0] in self.names:
                steal += int(fields[8]) * self.tick_ns
                if self.acct is None:
                    busy += sum(int(fields[i]) for i in (1, 2, 3, 6, 7)) * self.tick_ns
            elif fields[0] == b"procs_running":
                runnable = int(fields[1])
        if self.acct is not None:
            usage = os.pread(self.acct, 65536, 0).split()
            busy = float(sum(int(usage[c]) for c in self.cpus))
        return time.monotonic_ns(), busy, steal, runnable, own

    def begin(self):
        if self.opened is None:
            self.opened = self.snapshot()

    def add(self, event, force=False):
        """Count a measured step's event; the events of the window when it closes."""
        self.events.append(event)
        if force or time.monotonic_ns() - self.opened[0] >= self.window_ns:
            return self.close()
        return []

    def close(self):
        """Close the window: its figures go into each of its events, which are returned."""
        if self.opened is None:
            return []
        end = self.snapshot()
        start, events = self.opened, self.events
        self.opened, self.events = None, []
        span = max(end[0] - start[0], 1) * len(self.cpus)
        own = sum(e["user_ns"] + e["sys_ns"] for e in events) + (end[4] - start[4])
        other = min(max(end[1] - start[1] - own, 0.0), span)
        figures = {
            "other": round(other / span, 4),
            "steal": round(min(max(end[2] - start[2], 0.0), span) / span, 4),
            "runnable": None if end[3] is None else max(end[3] - 1, 0),
            "window": len(events),
        }
        for event in events:
            event.update(figures)
        return events


#: the spawner (spawner/spawner.c, built by spawner/build.sh), base64
SPAWNER_X86_64 = (
    "f0VMRgIBAQAAAAAAAAAAAAIAPgABAAAALwJAAAAAAABAAAAAAAAAAJAEAAAAAAAAAAAAAEAAOAADAEAABQAEAAEA"
    "AAAFAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAAcAQAAAAAAABwBAAAAAAAAAAQAAAAAAAAAQAAAAYAAACABAAA"
    "AAAAAIAUQAAAAAAAgBRAAAAAAAAAAAAAAAAAACAASAAAAAAAABAAAAAAAABR5XRkBgAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAFVJiflJifC/AQAAAFO9PAAAAE2FwHQuRTHSSIn4TInO"
    "TInCDwVIicNIg/j8dOlIhcB/CjHSSInoSInWDwVJAdlJKdjrzVtdw1UxwEGJ8UUxwFO9DQAAAEiJ+0iJRCToSI10"
    "JOBIiUQk8EiJRCT4SIlUJOAx0kpjPINBuggAAABIiegPBUn/wEU5wX/pW13DQVVFMdK4bQAAAEFUVUiJ/VMx20iJ"
    "30iJ3kiJ2g8FvgYAAAC/QARAAOiM////RTHSSIneSInaQbkhAAAAQbgDAAAATInITInHDwVBvQQAAAC+AQAAAEyJ"
    "yEyJ7w8FQbwFAAAAvgIAAABMichMiecPBUyJwEyJx0iJ3g8FTInATInvDwVMicBMiecPBb6gFEAAv6gUSAC4OwAA"
    "AEiJ6g8Fv38AAABIiQVeEgAASIneSInauDwAAAAPBVW6AQAAAL4EAAAAv2AEQABTvTwAAABIgeygAAAA6N/+//9I"
    "jXQkBLoEAAAAMf9FMdJIifgPBUiD+Px08EiFwA+OpQEAAEgBxkgpwnXfi1QkBIH6//8/AHYUMdJFMdK/AgAAAEiJ"
    "6EiJ1g8F6ye+oBRIAEiF0nQdMcBFMdJIiccPBUiD+Px060iFwH7NSAHGSCnC695EiwXWEQgARIsN0xEIAEONHAiN"
    "QwM9AAABAHYSMdJFMdK/AgAAAEiJ6EiJ1g8Fi3QkBLqoFEgASIHGoBRIAEj/wkiNQv9IOfBzBoB6/wB17jHJMcA5"
    "y4nHdDVBOch1DUUx0v/ATIkU/aAUQABIiRTFoBRAAI14AUj/wkiNQv9IOfBzBoB6/wB17v/BifjrxUWFyXUMMcn/"
    "wEiJDP2gFEAAMdJFMdJIiRTFoBRAALg6AAAASIkVBBEAADHSSInXSInWDwVIicNIhcB1EESJwEiNPMWoFEAA6Nn9"
    "//9MjUQkCHgjSIsF1BAAAEiFwHQiRTHSuD0AAABIid9MicYPBUiLHbgQAACJXCQIvgQAAADrOUyJx74EAAAAiVwk"
    "COgE/f//TI1EJAxBuT0AAAAx0kyNVCQQTInISInfTInGDwVIg/j8dOq+lAAAAEyJx+jU/P//6Tj+//9FMdK4PAAA"
    "AEiJ/kiJ+g8FSIHEoAAAAFtdwwAAAAAAAAAAAAAAAAABAAAAAgAAAAMAAAAPAAAADQAAAA4AAAAAAAAAAAAAAAEA"
    "AAACAAAAAwAAAA8AAAAALnNoc3RydGFiAC50ZXh0AC5yb2RhdGEALmJzcwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALAAAAAQAAAAYAAAAAAAAA6ABAAAAA"
    "AADoAAAAAAAAAEsDAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAEQAAAAEAAAACAAAAAAAAAEAEQAAAAAAA"
    "QAQAAAAAAAAwAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABkAAAAIAAAAAwAAAAAAAACAFEAAAAAAAIAE"
    "AAAAAAAAIABIAAAAAAAAAAAAAAAAACAAAAAAAAAAAAAAAAAAAAABAAAAAwAAAAAAAAAAAAAAAAAAAAAAAABwBAAA"
    "AAAAAB4AAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAA"
)


class _Usage(object):
    """The fields of a struct rusage the harness reads (wait4's, as the spawner sends it)."""

    __slots__ = ("ru_maxrss", "ru_nivcsw", "ru_nvcsw", "ru_stime", "ru_utime")

    def __init__(self, raw):
        values = struct.unpack("18q", raw)
        self.ru_utime = values[0] + values[1] / 1e6
        self.ru_stime = values[2] + values[3] / 1e6
        self.ru_maxrss, self.ru_nvcsw, self.ru_nivcsw = values[4], values[16], values[17]


class Spawner(object):
    """Steps started by a tiny static process (spawner/spawner.c), so that a step's max RSS
    is its own: Linux keeps, across exec, the peak RSS of the memory the exec replaced, so
    a step spawned by this Python process would start with the harness's ~13 MiB as its
    peak (GNU time's child starts with time's ~1 MiB). The spawner's few KiB are all a
    step inherits. x86-64 Linux only (:meth:`create` returns None elsewhere, with a
    scheduling policy for the steps, or with PERFLAB_SPAWN=ctypes|os).

    Protocol (see spawner.c): a request per step with the program, argv and environment;
    the reply is the pid at once (or -errno), then the wait status and rusage when the
    step ends. The step is in a process group of its own, as with posix_spawn."""

    def __init__(self, fds):
        code = base64.b64decode(SPAWNER_X86_64)
        memfd = os.memfd_create("perflab-spawner", getattr(os, "MFD_CLOEXEC", 1))
        try:
            os.write(memfd, code)
            req_r, self.requests = os.pipe()
            self.replies, rep_w = os.pipe()
            # sources above the targets first: dup2 in order must not overwrite a source
            sources = [
                fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
                for fd in (req_r, rep_w, fds["stdin"], fds["stdout"], fds["stderr"])
            ]
            os.close(req_r)
            os.close(rep_w)
            actions = [
                (os.POSIX_SPAWN_DUP2, fd, target) for target, fd in zip((0, 1, 3, 4, 5), sources)
            ]
            try:  # /proc/<harness>/fd/N: the child's own fd N may be a dup2 target
                self.pid = os.posix_spawn(
                    "/proc/%d/fd/%d" % (os.getpid(), memfd),
                    ["perflab-spawner"],
                    {},
                    file_actions=actions,
                )
            finally:
                for fd in sources:
                    os.close(fd)
            for fd in (self.requests, self.replies):
                os.set_inheritable(fd, False)
        finally:
            os.close(memfd)
        self.base = {}  # type: Dict[str, bytes]
        self.messages = {}  # type: Dict[Any, bytes]

    @classmethod
    def create(cls, fds, base_env):
        if (
            os.environ.get("PERFLAB_SPAWN") in ("os", "ctypes")
            or not sys.platform.startswith("linux")
            or os.uname().machine != "x86_64"
            or not hasattr(os, "memfd_create")
        ):
            return None
        try:
            spawner = cls(fds)
        except OSError:
            return None
        spawner.base = {k: os.fsencode(k + "=" + v) for k, v in base_env.items()}
        return spawner

    def prepare(self, program, argv, overrides):
        """The request, built before the clock starts (one per argv and variables)."""
        key = (program, tuple(argv), tuple(sorted(overrides.items())))
        message = self.messages.get(key)
        if message is None:
            env = dict(self.base)
            env.update((k, os.fsencode(k + "=" + v)) for k, v in overrides.items())
            strings = [os.fsencode(program)] + [os.fsencode(a) for a in argv] + list(env.values())
            body = struct.pack("II", len(argv), len(env)) + b"\0".join(strings) + b"\0"
            message = self.messages[key] = struct.pack("I", len(body)) + body
        return message

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = os.read(self.replies, n - len(data))
            if not chunk:
                raise OSError(errno.EPIPE, "the spawner ended")
            data += chunk
        return data

    def spawn(self, message):
        view = memoryview(message)
        while view:
            view = view[os.write(self.requests, view) :]
        pid = struct.unpack("i", self._read(4))[0]
        if pid < 0:
            raise OSError(-pid, os.strerror(-pid))
        return pid

    def wait(self, pid):
        """(wait status, rusage) of the step started last (``pid``)."""
        reply = self._read(148)
        return struct.unpack("i", reply[:4])[0], _Usage(reply[4:])

    def close(self):
        os.close(self.requests)
        os.close(self.replies)
        os.waitpid(self.pid, 0)


_POLICIES = {"fifo": "SCHED_FIFO", "rr": "SCHED_RR", "other": "SCHED_OTHER"}


def scheduler_of(sched):
    """(policy, sched_param) for posix_spawn, or None to inherit the harness's own."""
    if not sched or sched.get("policy", "other") == "other":
        return None
    policy = getattr(os, _POLICIES[sched["policy"]])
    return policy, os.sched_param(int(sched.get("priority") or 0))


def apply_inherited(sched):
    """Nice and the real-time runtime limit, on this process; children inherit them."""
    if sched.get("rttime_us"):
        import resource

        limit = int(sched["rttime_us"])
        resource.setrlimit(resource.RLIMIT_RTTIME, (limit, limit))
    if sched.get("nice") is not None:
        os.setpriority(os.PRIO_PROCESS, 0, int(sched["nice"]))


def _try_sched(sched):
    apply_inherited(sched)
    scheduler = scheduler_of(sched)
    if scheduler is not None:
        os.sched_setscheduler(0, scheduler[0], scheduler[1])


def sched_refusal(sched):
    """Why this host refuses ``sched`` (tried in a throwaway child), or None."""
    if not sched:
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child only tries, reports and exits
        os.close(read_end)
        message = b""
        try:
            _try_sched(sched)
        except (OSError, ValueError) as exc:
            message = (getattr(exc, "strerror", None) or str(exc)).encode()
        os.write(write_end, message)
        os._exit(0)
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    error = b"".join(chunks).decode("utf-8", "replace")
    if not error:
        return None
    policy = sched.get("policy", "other")
    wanted = "policy %s:%s" % (policy, sched.get("priority")) if policy != "other" else ""
    if sched.get("nice") is not None:
        wanted = (wanted + " and " if wanted else "") + "nice %s" % sched["nice"]
    return (
        "this runner does not allow scheduling %s (%s); it needs root or CAP_SYS_NICE "
        "(or RLIMIT_RTPRIO / RLIMIT_NICE for this user)" % (wanted, error)
    )


def confined(workdir, name):
    """(real path of output ``name``, None) when it lies inside the workdir, else (None, why).

    By the real path, symlinks resolved: the controller refuses '..' and absolute outputs,
    and this holds even when it is bypassed, or when a link out appears in the workdir."""
    try:
        root = os.path.realpath(workdir)
        path = os.path.realpath(os.path.join(root, name))
    except (ValueError, OSError) as exc:
        return None, "output %r cannot be resolved: %s" % (name, exc)
    if path == root:
        return None, "output %r is the workdir itself" % name
    if not path.startswith(root.rstrip("/") + "/"):
        return None, "output %r resolves to %s, outside the workdir %s" % (name, path, root)
    return path, None


def _collect_output(step, workdir, rundir, sid):
    name = step.get("output")
    if not name:
        return None, None
    source, refused = confined(workdir, name)
    if refused:
        return None, refused + ": not copied"
    if "/" in sid or "\0" in sid:  # the copy replaces <rundir>/<id>.output, nothing else
        return None, "step id %r is not a plain name: output not copied" % sid
    target = os.path.join(rundir, sid + ".output")
    if os.path.isdir(source):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
        return target, None
    if not os.path.exists(source):
        return None, "output file %s was not written" % name
    shutil.copyfile(source, target)
    return target, None


def _remove_stale_output(step, workdir):
    """Delete the output a previous repetition left; the reason when it may not be touched."""
    path, refused = confined(workdir, step["output"])
    if refused:
        return refused + ": nothing deleted, the step not started"
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.unlink(path)
    return None


def _not_started(event, status, error, fds, out_start, err_start):
    event["exit"] = status
    event["error"] = error
    os.write(fds["stderr"], (error + "\n").encode())
    event["stdout"] = [out_start, out_start]
    event["stderr"] = [err_start, _size(fds["stderr"])]
    return event


def run_step(step, base_env, workdir, rundir, deadline, fds, scheduler=None, fast=None):
    sid = step["id"]
    wrapper = None
    if step.get("count"):  # a counted repetition: under callgrind or perf stat (counting.py)
        # counting.py's text is sent before this file's (perflab.hostside.source)
        step, wrapper = counted_step(step, rundir)  # type: ignore[name-defined]  # noqa: F821
    if scheduler is not None:
        fast = None  # a scheduling policy for the child: os.posix_spawn sets it
    program, argv, env, overrides = prepare_step(step, base_env, merged=fast is None)
    prepared = fast.prepare(program, argv, overrides) if fast is not None else None
    timeout = step.get("timeout")
    if deadline is not None:
        remaining = max(deadline - time.monotonic(), 0.001)
        timeout = remaining if timeout is None else min(timeout, remaining)
    refused = _remove_stale_output(step, workdir) if step.get("output") else None
    out_start, err_start = _size(fds["stdout"]), _size(fds["stderr"])
    event = {
        "event": "step",
        "id": sid,
        "kind": step.get("kind"),
        "exit": None,
        "signal": None,
        "timed_out": False,
        "wall_ns": 0,
        "user_ns": 0,
        "sys_ns": 0,
        "maxrss_kb": 0,
        "nvcsw": 0,
        "nivcsw": 0,
        "output": None,
        "error": None,
    }
    if refused:
        return _not_started(event, 126, refused, fds, out_start, err_start)
    _state["timed_out"] = False
    start = time.monotonic_ns()
    try:
        if prepared is not None:
            pid = fast.spawn(prepared)
        else:
            pid = _spawn(program, argv, env, fds, scheduler)
    except OSError as exc:
        what = step.get("argv", [step.get("shell")])[0]
        return _not_started(
            event,
            127 if isinstance(exc, FileNotFoundError) else 126,
            "cannot start %s: %s" % (what, exc.strerror or exc),
            fds,
            out_start,
            err_start,
        )
    _state["child"] = pid
    if _state["interrupted"]:  # the stop signal came while it was being spawned
        _kill_group(pid)
    if timeout is not None:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        status, usage = fast.wait(pid) if prepared is not None else os.wait4(pid, 0)[1:]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        end = time.monotonic_ns()
        _kill_group(pid)
        _state["child"] = 0
    event.update(
        wall_ns=end - start,
        timed_out=_state["timed_out"],
        user_ns=int(usage.ru_utime * 1e9),
        sys_ns=int(usage.ru_stime * 1e9),
        maxrss_kb=usage.ru_maxrss,
        nvcsw=usage.ru_nvcsw,
        nivcsw=usage.ru_nivcsw,
        stdout=[out_start, _size(fds["stdout"])],
        stderr=[err_start, _size(fds["stderr"])],
    )
    if os.WIFSIGNALED(status):
        event["signal"] = os.WTERMSIG(status)
        event["exit"] = -event["signal"]
    else:
        event["exit"] = os.WEXITSTATUS(status)
    if event["timed_out"]:
        event["error"] = "timed out after %.3g s" % timeout
    elif event["exit"] == 0:
        event["output"], event["error"] = _collect_output(step, workdir, rundir, sid)
        _add_counts(step, event, rundir, pid, wrapper)
    return event


def _add_counts(step, event, rundir, pid, wrapper):
    """What a counted step's tool counted (counting.py's text is sent before this file's,
    see perflab.hostside.source)."""
    if step.get("count") and not event["error"]:
        counted = read_counts  # type: ignore[name-defined]  # noqa: F821
        event["counted"], event["error"] = counted(step, rundir, pid, wrapper)


def missing_programs(checks, env, workdir):
    """Programs the benchmarks start that cannot be found (checked after setup)."""
    missing = []
    for check in checks or []:
        program = check["program"]
        if "/" in program:
            path = os.path.join(workdir, program)
            found = os.path.isfile(path) and os.access(path, os.X_OK)
        else:
            found = shutil.which(program, path=env.get("PATH", os.defpath)) is not None
        if not found:
            missing.append(check)
    return missing


def refusals(request, env):
    """Reasons not to start at all: a required program missing, a policy not allowed."""
    items = []
    for need in request.get("require") or []:
        if shutil.which(need["program"], path=env.get("PATH", os.defpath)) is None:
            items.append(need)
    reason = sched_refusal(request.get("sched"))
    if reason:
        items.append({"field": request["sched"].get("field", "pin.policy"), "message": reason})
    return items


def _before_measuring(request, base_env, workdir):
    """Between the setup steps and the first other step: the scheduling the benchmark
    inherits, then the benchmark programs must exist. Returns the spawn scheduler, or
    False when a program is missing (nothing is measured then)."""
    sched = request.get("sched") or {}
    if sched:
        apply_inherited(sched)
    missing = missing_programs(request.get("check"), base_env, workdir)
    if missing:
        emit({"event": "missing", "items": missing})
        return False
    return scheduler_of(sched)


def run_steps(request, base_env, workdir, rundir, deadline, fds, contention=None):
    """Every step in order; True when the job's time ran out."""
    checked = False
    scheduler = None
    group = None
    fast = Spawner.create(fds, base_env) or FastSpawn.create(fds, base_env)
    if contention is not None and isinstance(fast, Spawner):
        contention.watch(fast.pid)
    try:
        for step in request["steps"]:
            if _state["interrupted"]:
                break
            measured = step.get("kind") != "setup"
            # a batch holds repetitions of one benchmark and kind; another may be long
            this = (step.get("kind"), step.get("benchmark", step["id"]))
            if this != group:
                _flush(contention)
                group = this
            if measured and not checked:
                checked = True
                scheduler = _before_measuring(request, base_env, workdir)
                if scheduler is False:
                    break
                if _inherited(request) and isinstance(fast, Spawner):
                    # nice and RLIMIT_RTTIME pass to children: a spawner started before
                    # they were set would give the benchmark the harness's old values
                    fast.close()
                    fast = Spawner.create(fds, base_env) or FastSpawn.create(fds, base_env)
                    if contention is not None and isinstance(fast, Spawner):
                        contention.watch(fast.pid)
            if deadline is not None and time.monotonic() >= deadline:
                return True
            if measured and contention is not None:
                contention.begin()
            event = run_step(
                step,
                base_env,
                workdir,
                rundir,
                deadline,
                fds,
                scheduler if measured else None,
                fast,
            )
            _emit_step(event, measured, contention)
            if deadline is not None and event["timed_out"] and time.monotonic() >= deadline:
                return True
            if not measured and (event["exit"] != 0 or event["timed_out"]):
                break
    finally:
        _flush(contention)
        if fast is not None:
            fast.close()
    return False


def _inherited(request):
    """Whether the job sets what children inherit (nice, RLIMIT_RTTIME) after setup."""
    sched = request.get("sched") or {}
    return sched.get("nice") is not None or bool(sched.get("rttime_us"))


def _flush(contention):
    """Events of an open window, then every batched event, go out now."""
    for event in contention.close() if contention is not None else []:
        emit(event, batch=True)
    send_pending()


def _emit_step(event, measured, contention):
    if _state["interrupted"]:
        event["interrupted"] = True
    # a short repetition is followed by more like it: its event may wait for the batch
    urgent = event["wall_ns"] >= BATCH_S * 1e9 or event["error"] or _state["interrupted"]
    if not measured or contention is None:
        emit(event, batch=measured and not urgent)
        return
    for ready in contention.add(event, force=bool(urgent)):
        emit(ready, batch=not urgent)
    if urgent:
        send_pending()


def main():
    request = read_request()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, _on_stop)
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGHUP, _on_stop)
    if request.get("watch_stdin"):
        _watch_stdin()
    workdir = request["workdir"]
    rundir = request["rundir"]
    os.makedirs(rundir, exist_ok=True)
    os.chdir(workdir)
    try:
        cgroups = _enter_cgroups(request.get("cgroups"))
        if request.get("cpus"):
            os.sched_setaffinity(0, request["cpus"])
        if request.get("nice") is not None:
            os.setpriority(os.PRIO_PROCESS, 0, int(request["nice"]))
    except OSError as exc:
        allowed = sorted(os.sched_getaffinity(0))
        emit(
            {
                "event": "fatal",
                "error": "cannot place the benchmark (cgroups %s, CPUs %s): "
                "%s; this process may use CPUs %s"
                % (request.get("cgroups"), request.get("cpus"), exc.strerror or exc, allowed),
            }
        )
        return
    base_env = dict(os.environ)
    base_env.update({k: str(v) for k, v in (request.get("env") or {}).items()})
    job_timeout = request.get("job_timeout")
    deadline = time.monotonic() + job_timeout if job_timeout else None
    logs, fds = open_logs(rundir)
    cpus = sorted(os.sched_getaffinity(0))
    contention = Contention.create(cpus)
    emit(
        {
            "event": "start",
            "pid": os.getpid(),
            "cgroups": cgroups,
            "logs": logs,
            "cpus": cpus,
            "contention": contention
            and {"source": contention.source, "window_ns": contention.window_ns},
        }
    )
    refused = refusals(request, base_env)
    job_timed_out = False
    if refused:
        emit({"event": "refused", "items": refused})
    else:
        job_timed_out = run_steps(request, base_env, workdir, rundir, deadline, fds, contention)
    emit({"event": "done", "interrupted": _state["interrupted"], "job_timed_out": job_timed_out})


if __name__ == "__main__":
    main()
