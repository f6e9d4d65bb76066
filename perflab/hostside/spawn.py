"""Starting a benchmark's steps on the host (stdlib only, Python 3.8+): by a tiny static
spawner process on x86-64 Linux (:class:`Spawner`, so a step's max RSS is its own), else
by posix_spawn through ctypes with everything built before the clock starts
(:class:`FastSpawn`), else by ``os.posix_spawn`` (:func:`_spawn`); and the scheduling
policy a job pins for its steps (:func:`scheduler_of`, :func:`sched_refusal`).

Sent with the harness: :func:`perflab.hostside.source` puts this module's text before
harness.py's, so the harness uses these as its own.
"""

import base64
import errno
import fcntl
import os
import signal
import struct
import sys
from typing import Any, Dict, List  # noqa: F401 (type comments, for Python 3.8 hosts)

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
