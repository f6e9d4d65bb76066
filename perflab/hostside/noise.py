"""A fixed-work noise probe, pinned to each CPU in turn (stdlib only, Python 3.8+).

Request: {"cpus": [1, 2], "repetitions": 200, "work_ms": 5, "tasks_file": null | path}
Answer:  {"iterations": n, "cpus": {"1": {"ns": [...], "involuntary": k, "interrupts": m,
          "elapsed_ns": t}}, "self_cpus": [...]}

The work is a plain loop calibrated once to ``work_ms``; each repetition is
timed with the monotonic clock. Involuntary context switches are counted for
the probing thread itself (RUSAGE_THREAD); interrupts are the CPU's column of
/proc/interrupts, before and after.
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


def probe_cpu(cpu, iterations, repetitions):
    os.sched_setaffinity(0, [cpu])
    for _ in range(max(3, repetitions // 20)):  # warm up on this CPU
        spin(iterations)
    irq_before, csw_before = interrupts(cpu), involuntary()
    start = time.perf_counter_ns()
    samples = []
    for _ in range(repetitions):
        t0 = time.perf_counter_ns()
        spin(iterations)
        samples.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter_ns() - start
    irq_after = interrupts(cpu)
    return {"ns": samples, "involuntary": involuntary() - csw_before,
            "interrupts": None if irq_before is None or irq_after is None
            else irq_after - irq_before, "elapsed_ns": elapsed}


def main():
    request = json.loads(sys.stdin.read())
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
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
