"""Timing one command and measuring the memory of its whole process tree.

Memory is sampled from /proc: every ``interval`` seconds the sampler lists the
descendants of this process (this process is made a *child subreaper*, so
daemonised grandchildren such as Ansible's ``ssh`` ControlPersist masters are
re-parented to it and still counted) and sums their RSS and PSS. PSS
(proportional set size, ``/proc/PID/smaps_rollup``) charges a page shared by k
processes 1/k to each, so forked workers that share their parent's pages are
not counted k times; RSS counts them every time. Sampling costs CPU, so the
timed rounds do not sample; memory has rounds of its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
PAGE = os.sysconf("SC_PAGE_SIZE")


def become_subreaper() -> bool:
    """Orphaned descendants re-parent to this process instead of PID 1 (Linux >= 3.4)."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def descendants(root: int | None = None, *, skip: frozenset[int] = frozenset()) -> list[int]:
    """Every live process below ``root`` (default: this process), by walking ppids.

    ``skip``: processes left out with everything below them (the fleet's sshd
    daemons are children of this process too: the hosts, not the controller).
    """
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            parent = _ppid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child in skip:
                continue
            found.append(child)
            todo.append(child)
    return found


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) once it is gone."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        pss = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
    except (OSError, IndexError, ValueError):
        return 0, 0
    return rss, pss


@dataclass
class TreeMemory:
    """Peaks over the samples of the sums over the tree (not the sum of per-process peaks)."""

    peak_rss: int = 0
    peak_pss: int = 0
    peak_processes: int = 0
    samples: int = 0


class Sampler:
    """Samples the memory of this process's descendants in a thread, until stopped."""

    def __init__(self, interval: float = 0.05, skip: frozenset[int] = frozenset()) -> None:
        self.interval = interval
        self.skip = skip
        self.result = TreeMemory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        pids = descendants(skip=self.skip)
        totals = [_memory(pid) for pid in pids]
        self.result.peak_rss = max(self.result.peak_rss, sum(r for r, _ in totals))
        self.result.peak_pss = max(self.result.peak_pss, sum(p for _, p in totals))
        self.result.peak_processes = max(self.result.peak_processes, len(pids))
        self.result.samples += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Step:
    """One command of a tool's work: run it, time it, keep its output."""

    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    ok_status: tuple[int, ...] = (0,)
    timeout: float = 600.0


@dataclass
class StepResult:
    label: str
    seconds: float
    status: int
    stdout: str
    stderr: str
    max_rss: int  # the process's own peak RSS (wait4), bytes
    extra: dict[str, object] = field(default_factory=dict)


def run_step(step: Step, out_dir: Path) -> StepResult:
    """Run ``step`` with its output in files, timed from fork to exit (wait4 for its rusage)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = out_dir / f"{step.label}.out"
    stderr_path = out_dir / f"{step.label}.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            step.argv, env=step.env, cwd=step.cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        timer = threading.Timer(step.timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return StepResult(
        step.label,
        seconds,
        process.returncode,
        stdout_path.read_text(errors="replace"),
        stderr_path.read_text(errors="replace"),
        usage.ru_maxrss * 1024,
    )


def reap_orphans(skip: frozenset[int]) -> list[int]:
    """Collect exited orphans re-parented to us (we are their subreaper), but ``skip``."""
    reaped = []
    for pid in descendants(skip=skip):
        if _ppid(pid) != os.getpid():
            continue
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                reaped.append(pid)
    return reaped


def kill_descendants(skip: frozenset[int], grace: float = 5.0) -> list[int]:
    """TERM, then KILL, what still runs below this process (all started here) but ``skip``."""
    pids = descendants(skip=skip)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while descendants(skip=skip) and time.monotonic() < deadline:
        reap_orphans(skip)
        time.sleep(0.05)
    for pid in descendants(skip=skip):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.05)
    reap_orphans(skip)
    return pids


def children_cpu() -> float:
    """CPU seconds (user + system) of every child and orphan this process has reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """CPU seconds this machine has been busy since boot (all CPUs: user, system, irq)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def hosts_cpu(sshds: frozenset[int]) -> float:
    """CPU seconds the fleet's hosts spent: each sshd listener and the sessions it reaped.

    An SSH session's processes (sshd's session children, the shell, the command)
    are charged to the listener's cutime/cstime when the session ends, so read
    this once every connection is closed (see :func:`sessions_closed`).
    """
    total = 0
    for pid in sshds:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def sessions_closed(sshds: frozenset[int], timeout: float = 10.0) -> bool:
    """Wait until no fleet sshd has a session child left (their CPU is then accounted)."""
    deadline = time.monotonic() + timeout
    while True:
        busy = [p for s in sshds for p in descendants(s)]
        if not busy or time.monotonic() > deadline:
            return not busy
        time.sleep(0.05)
