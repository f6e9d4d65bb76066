"""A fixed-work noise probe, pinned to each CPU in turn (stdlib only, Python 3.8+).

Request: {"cpus": [1, 2], "repetitions": 200, "work_ms": 5, "tasks_file": null | path,
          "history_file": null | path}
Answer:  {"iterations": n, "cpus": {"1": {"ns": [...], "involuntary": k, "interrupts": m,
          "elapsed_ns": t, "busy_ns": b | null, "own_ns": o, "steal_ns": s | null}},
          "self_cpus": [...], "history": [...]}
Or, to keep a judged probe in the host's history (the newest HISTORY_KEEP entries):
         {"history_file": path, "record": [{...}, ...]}  ->  {"recorded": n}

The work is a plain loop calibrated once to ``work_ms``; each repetition is
timed with the monotonic clock. Involuntary context switches are counted for
the probing thread itself (RUSAGE_THREAD); interrupts are the CPU's column of
/proc/interrupts, before and after. The CPU's busy time (the root cpuacct's
per-CPU usage in ns, else /proc/stat in clock ticks) and steal time (/proc/stat)
before and after, with the probe's own CPU time, tell how much of the CPU other
tasks used while it ran (the same evidence the harness keeps per repetition).
"""

import json
import os
import resource
import sys
import time


def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x


def calibrate(work_ms):
    n = 20000
    while True:
        start = time.perf_counter_ns()
        spin(n)
        took = time.perf_counter_ns() - start
        if took > 2_000_000:
            break
        n *= 2
    best = None
    for _ in range(5):
        start = time.perf_counter_ns()
        spin(n)
        took = time.perf_counter_ns() - start
        best = took if best is None else min(best, took)
    return max(1000, int(n * work_ms * 1e6 / best))


def interrupts(cpu):
    total = 0
    try:
        with open("/proc/interrupts") as handle:
            header = handle.readline().split()
            column = header.index("CPU%d" % cpu) + 1
            for line in handle:
                fields = line.split()
                if len(fields) > column and fields[column].isdigit():
                    total += int(fields[column])
    except (OSError, ValueError):
        return None
    return total


def involuntary():
    who = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)
    return resource.getrusage(who).ru_nivcsw


HISTORY_KEEP = 200
CPUACCT = "/sys/fs/cgroup/cpuacct/cpuacct.usage_percpu"


def cpu_times(cpu):
    """(busy ns or None, steal ns or None) of one CPU, now."""
    tick = 1e9 / os.sysconf("SC_CLK_TCK")
    busy = steal = None
    try:
        with open("/proc/stat") as handle:
            for line in handle:
                fields = line.split()
                if fields and fields[0] == "cpu%d" % cpu:
                    steal = int(fields[8]) * tick
                    busy = sum(int(fields[i]) for i in (1, 2, 3, 6, 7)) * tick
                    break
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(CPUACCT) as handle:
            busy = float(int(handle.read().split()[cpu]))
    except (OSError, ValueError, IndexError):
        pass
    return busy, steal


def _delta(after, before):
    return None if after is None or before is None else after - before


def probe_cpu(cpu, iterations, repetitions):
    os.sched_setaffinity(0, [cpu])
    for _ in range(max(3, repetitions // 20)):  # warm up on this CPU
        spin(iterations)
    irq_before, csw_before = interrupts(cpu), involuntary()
    busy_before, steal_before = cpu_times(cpu)
    own_before = time.process_time_ns()
    start = time.perf_counter_ns()
    samples = []
    for _ in range(repetitions):
        t0 = time.perf_counter_ns()
        spin(iterations)
        samples.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter_ns() - start
    own = time.process_time_ns() - own_before
    busy_after, steal_after = cpu_times(cpu)
    irq_after = interrupts(cpu)
    return {
        "ns": samples,
        "involuntary": involuntary() - csw_before,
        "interrupts": None if irq_before is None or irq_after is None else irq_after - irq_before,
        "elapsed_ns": elapsed,
        "busy_ns": _delta(busy_after, busy_before),
        "own_ns": own,
        "steal_ns": _delta(steal_after, steal_before),
    }


def read_history(path):
    try:
        with open(path) as handle:
            entries = json.load(handle)
    except (OSError, ValueError):
        return []
    return entries if isinstance(entries, list) else []


def record(path, entries):
    kept = (read_history(path) + list(entries))[-HISTORY_KEEP:]
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    temporary = path + ".tmp%d" % os.getpid()
    with open(temporary, "w") as handle:
        json.dump(kept, handle)
    os.replace(temporary, path)
    return len(kept)


def main():
    request = json.loads(sys.stdin.read())
    if "record" in request:
        sys.stdout.write(
            json.dumps({"recorded": record(request["history_file"], request["record"])})
        )
        return
    if request.get("tasks_file"):
        with open(request["tasks_file"], "w") as handle:
            handle.write(str(os.getpid()))
    cpus = request["cpus"]
    os.sched_setaffinity(0, [cpus[0]])
    iterations = calibrate(float(request.get("work_ms", 5)))
    out = {"iterations": iterations, "cpus": {}}
    for cpu in cpus:
        out["cpus"][str(cpu)] = probe_cpu(cpu, iterations, int(request.get("repetitions", 200)))
    out["self_cpus"] = sorted(os.sched_getaffinity(0))
    out["history"] = read_history(request["history_file"]) if request.get("history_file") else []
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
