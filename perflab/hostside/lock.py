"""Hold a runner's host lock while one perflab command works on it (stdlib only, 3.8+).

One job per host, whoever asks: every command that prepares, measures on,
restores or probes a runner holds an exclusive ``flock`` on ``<state dir>/lock``
for its whole length. This helper takes the lock and keeps it until the
controller closes its standard input: at the end of the command, or because
the controller died (SIGKILL, lost connection), so a dead controller can never
hold a host. It ignores SIGINT, SIGTERM and SIGHUP: the lock must outlive the
controller's restore after Ctrl-C, which ends by closing stdin.

Request (one JSON line on stdin, which then stays open)::

    {"dir": "/var/lib/perflab", "fallback": "~/.local/state/perflab" | null,
     "state_file": "/var/lib/perflab/state.json",
     "owner": {"what": "run 0904227a", "pid": 1234, "host": "ci-7", "since": 1700000000.0},
     "wait": 30.0}

Events (JSON lines on stdout)::

    {"event": "busy", "owner": {...} | null}           (once, when another command holds it)
    {"event": "locked", "path": "/var/lib/perflab/lock", "state": {...} | null}
    {"event": "timeout", "owner": {...} | null}        (still busy after ``wait`` s; exits)
    {"event": "error", "error": "..."}                 (the lock file cannot be opened)

While the lock is held the file names its owner (who is busy, for the next
command's message); the owner is cleared when the lock is let go.
"""

import errno
import fcntl
import json
import os
import signal
import time

POLL_S = 0.1


def emit(event):
    os.write(1, (json.dumps(event) + "\n").encode())


def owner_of(fd):
    try:
        text = os.pread(fd, 65536, 0).decode("utf-8", "replace")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


def open_lock(folder):
    folder = os.path.expanduser(folder)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, "lock")
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return path, os.open(path, flags, 0o600)


def open_any(request):
    """The state dir's lock; a user who cannot write there (no root) uses the fallback."""
    try:
        return open_lock(request["dir"])
    except OSError as exc:
        fallback = request.get("fallback")
        if not fallback or exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        return open_lock(fallback)


def acquire(fd, wait):
    """True once locked; False when still busy after ``wait`` seconds."""
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
        if time.monotonic() >= deadline:
            emit({"event": "timeout", "owner": owner_of(fd)})
            return False
        if not told:
            emit({"event": "busy", "owner": owner_of(fd)})
            told = True
        time.sleep(POLL_S)


def read_state(path):
    """The host's preparation state file (JSON), read under the lock; None if absent."""
    if not path:
        return None
    try:
        with open(path) as handle:
            return json.loads(handle.read() or "null")
    except (OSError, ValueError):
        return None


def hold(fd, path, owner, state_file):
    """Name the owner in the lock file, say so (with the host's preparation state: one
    round trip less for the controller), then keep the lock until stdin closes."""
    data = json.dumps(dict(owner, holder=os.getpid())).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    emit({"event": "locked", "path": path, "state": read_state(state_file)})
    while os.read(0, 4096):  # until the controller closes stdin, or is gone
        pass
    os.ftruncate(fd, 0)


def main():
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            return  # the controller went away before asking
        line += chunk
    request = json.loads(line.decode("utf-8"))
    try:
        path, fd = open_any(request)
    except OSError as exc:
        emit(
            {
                "event": "error",
                "error": "%s: %s" % (exc.filename or request["dir"], exc.strerror or exc),
            }
        )
        return
    if acquire(fd, float(request.get("wait") or 0)):
        hold(fd, path, request.get("owner") or {}, request.get("state_file"))


if __name__ == "__main__":
    main()
