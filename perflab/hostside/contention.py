"""Contamination evidence on the host (stdlib only, Python 3.8+): how much of the
benchmark's CPUs other tasks used while its repetitions ran (:class:`Contention`).

Sent with the harness: :func:`perflab.hostside.source` puts this module's text before
harness.py's, so the harness uses it as its own.
"""

import os
import time
from typing import Any, Dict, List  # noqa: F401 (type comments, for Python 3.8 hosts)


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
