"""Fan-out: facts and a 3-task profile checked on N SSH hosts, by perflab, pyinfra and Ansible.

    .venv/bin/python bench/fanout/run.py [--hosts 50] [--rounds 3] [--json out.json]   # as root

Builds N real sshd hosts in network namespaces (tests/fleet), pins their host
keys in one known_hosts file, and gives each tool the same hosts and the same
work: gather platform facts, then check three sysctls (ASLR, swappiness,
dirty_ratio) in check mode, N hosts at a time. See perflab_side.py,
pyinfra_side.py and ansible_side.py for exactly what each one runs.

Every round runs the three tools one after the other, in an order that rotates
from round to round, each from a cold start (fresh state directories, new
connections); a warm-up round is run first and not counted. Each tool's time is
the wall time of its command(s), from fork to exit. Every run must succeed on
every host (exit status and per-host results are checked) or the script stops.

The hosts share this machine's CPUs, so CPU time is reported beside wall time,
split three ways: the controller (the tool's processes, from wait4, and the
detached ones this script reaps), the hosts (every SSH session's processes,
charged to the fleet's sshd listeners when the session ends) and the others
(the machine's busy time meanwhile minus those two: other users' load).

Memory is measured in rounds of its own (sampling costs CPU): the peak, over
samples every 50 ms, of the summed PSS (and RSS) of every controller process a
tool runs, once with all N hosts and once with one; memory per host connection
is the difference divided by N - 1. Ansible's ssh ControlPersist masters detach
from it; this script is their child subreaper, so they are counted too.

Targets (the issue): perflab no slower than pyinfra and >= 5x faster than
Ansible. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.fleet
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the modules beside this one

from ansible_side import AnsibleSide
from common import BenchError, Side, Target, settings
from measure import (
    Sampler,
    StepResult,
    become_subreaper,
    children_cpu,
    descendants,
    hosts_cpu,
    kill_descendants,
    machine_busy,
    reap_orphans,
    run_step,
    sessions_closed,
)
from perflab_side import PerflabBefore, PerflabSeparateFacts, PerflabSide
from pyinfra_side import PyinfraSide

from tests.fleet import Fleet

SIDES = {
    "perflab": PerflabSide,
    "perflab3": PerflabSeparateFacts,
    "pyinfra": PyinfraSide,
    "ansible": AnsibleSide,
    "before": PerflabBefore,
}
MiB = 1 << 20


def build_sides(
    work: Path,
    targets: list[Target],
    known_hosts: Path,
    wanted: dict[str, str],
    forks: int,
    names: list[str],
) -> list[Side]:
    return [SIDES[name](work / name, targets, known_hosts, wanted, forks) for name in names]


def settle(skip: frozenset[int], tool: str) -> None:
    """Nothing a tool started may outlive its round (beyond a short grace)."""
    deadline = time.monotonic() + 5
    while descendants(skip=skip) and time.monotonic() < deadline:
        reap_orphans(skip)
        time.sleep(0.05)
    left = kill_descendants(skip, grace=1)
    if left:
        print(f"  note: {tool} left {len(left)} process(es) running; killed", file=sys.stderr)


@dataclass
class Run:
    """One tool's round: step results, what its check found, and CPU seconds where spent."""

    results: list[StepResult]
    details: dict[str, object]
    controller_cpu: float
    hosts_cpu: float
    other_cpu: float  # what the rest of the machine used meanwhile (other users, the kernel)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.results)


def run_side(
    side: Side, round_dir: Path, skip: frozenset[int], sampler: Sampler | None = None
) -> Run:
    steps = side.steps(round_dir)
    sessions_closed(skip)
    hosts_before, controller_before = hosts_cpu(skip), children_cpu()
    busy_before = machine_busy()
    if sampler is None:
        results = [run_step(step, round_dir) for step in steps]
    else:
        with sampler:
            results = [run_step(step, round_dir) for step in steps]
    cleanup = children_cpu()
    side.after(round_dir)
    cleanup = children_cpu() - cleanup  # `ssh -O exit` is the bench's, not the tool's
    settle(skip, side.name)
    controller = children_cpu() - controller_before - cleanup
    if not sessions_closed(skip):
        print(f"  note: {side.name} left SSH sessions open on the hosts", file=sys.stderr)
    hosts = hosts_cpu(skip) - hosts_before
    other = machine_busy() - busy_before - controller - hosts
    return Run(results, side.check(results), controller, hosts, max(other, 0.0))


def timed_rounds(
    sides: list[Side], work: Path, skip: frozenset[int], rounds: int, warmup: int
) -> dict[str, list[dict[str, float]]]:
    """Per tool, per counted round: total seconds and each step's seconds."""
    times: dict[str, list[dict[str, float]]] = {s.name: [] for s in sides}
    for index in range(warmup + rounds):
        shift = index % len(sides)
        order = sides[shift:] + sides[:shift]
        label = "warm-up" if index < warmup else f"round {index - warmup + 1}/{rounds}"
        for side in order:
            run = run_side(side, work / f"round{index}" / side.name, skip)
            steps = ", ".join(f"{r.label} {r.seconds:.2f}" for r in run.results)
            print(
                f"  {label:<12} {side.name:<8} {run.seconds:6.2f} s ({steps}); CPU s: "
                f"controller {run.controller_cpu:.2f}, hosts {run.hosts_cpu:.2f}, "
                f"others {run.other_cpu:.2f}",
                flush=True,
            )
            if index >= warmup:
                times[side.name].append(
                    {
                        "total": run.seconds,
                        "controller_cpu": run.controller_cpu,
                        "hosts_cpu": run.hosts_cpu,
                        "other_cpu": run.other_cpu,
                        **{r.label: r.seconds for r in run.results},
                    }
                )
    return times


def memory_rounds(
    all_sides: list[Side], one_sides: list[Side], work: Path, skip: frozenset[int], count: int
) -> dict[str, dict[str, float]]:
    out = {}
    for side, single in zip(all_sides, one_sides, strict=True):
        peaks, biggest = {}, {}
        for label, chosen in (("all", side), ("one", single)):
            sampler = Sampler(interval=0.05, skip=skip)
            run = run_side(chosen, work / f"memory-{label}" / side.name, skip, sampler)
            peaks[label] = sampler.result
            biggest[label] = max(r.max_rss for r in run.results)
        every, one = peaks["all"], peaks["one"]
        per_host = (every.peak_pss - one.peak_pss) / max(count - 1, 1)
        out[side.name] = {
            "peak_pss_mib": every.peak_pss / MiB,
            "peak_rss_mib": every.peak_rss / MiB,
            "peak_processes": every.peak_processes,
            "samples": every.samples,
            "one_host_peak_pss_mib": one.peak_pss / MiB,
            "one_host_peak_rss_mib": one.peak_rss / MiB,
            "pss_per_host_mib": per_host / MiB,
            "pss_total_per_host_mib": every.peak_pss / count / MiB,
            "largest_process_max_rss_mib": biggest["all"] / MiB,
        }
        print(
            f"  memory {side.name:<8} peak PSS {every.peak_pss / MiB:7.1f} MiB with {count} "
            f"hosts, {one.peak_pss / MiB:6.1f} MiB with 1  -> {per_host / MiB:5.2f} MiB "
            f"per host connection",
            flush=True,
        )
    return out


def report(
    times: dict[str, list[dict[str, float]]], memory: dict[str, dict[str, float]], count: int
) -> dict[str, object]:
    medians = {name: statistics.median(r["total"] for r in rows) for name, rows in times.items()}
    base = medians.get("perflab")
    print(
        f"\n{'tool':<10} {'median s':>9} {'min s':>8} {'max s':>8} {'x perflab':>10} "
        f"{'CPU s: controller':>18} {'hosts':>6} {'others':>7}"
    )
    for name, rows in times.items():
        totals = [r["total"] for r in rows]
        ratio = f"{medians[name] / base:9.2f}x" if base else "-"
        print(
            f"{name:<10} {medians[name]:9.2f} {min(totals):8.2f} {max(totals):8.2f} {ratio:>10} "
            f"{statistics.median(r['controller_cpu'] for r in rows):18.2f} "
            f"{statistics.median(r['hosts_cpu'] for r in rows):6.2f} "
            f"{statistics.median(r['other_cpu'] for r in rows):7.2f}"
        )
    if "perflab" in times:
        for step in [k for k in times["perflab"][0] if k.startswith("perflab-")]:
            print(f"  {step:<24} {statistics.median(r[step] for r in times['perflab']):6.2f} s")
    if memory:
        print(
            f"\n{'tool':<10} {'peak PSS':>10} {'peak RSS':>10} {'procs':>6} "
            f"{'PSS/host':>9} {'(total/N)':>10}"
        )
        for name, m in memory.items():
            print(
                f"{name:<10} {m['peak_pss_mib']:8.1f}Mi {m['peak_rss_mib']:8.1f}Mi "
                f"{m['peak_processes']:6.0f} {m['pss_per_host_mib']:7.2f}Mi "
                f"{m['pss_total_per_host_mib']:8.2f}Mi"
            )
    targets = {}
    if base and "pyinfra" in medians:
        targets["perflab <= pyinfra"] = base <= medians["pyinfra"]
    if base and "ansible" in medians:
        targets["ansible / perflab >= 5"] = medians["ansible"] / base >= 5
    for what, met in targets.items():
        print(f"target {what}: {'met' if met else 'MISSED'}")
    return {
        "medians_s": medians,
        "ratios_to_perflab": {n: m / base for n, m in medians.items()} if base else {},
        "targets": targets,
        "rounds": times,
        "memory": memory,
        "hosts": count,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--forks", type=int, help="hosts at once (default: all of them)")
    parser.add_argument("--tools", default="perflab,pyinfra,ansible")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="also run perflab from this checkout (side 'before'), e.g. "
        "`git archive main | tar -x -C DIR`",
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--keep-output",
        type=Path,
        metavar="DIR",
        help="copy every command's stdout/stderr and input files to DIR",
    )
    return parser.parse_args()


def measure(
    args: argparse.Namespace, fleet: Fleet, work: Path, skip: set[int]
) -> dict[str, object]:
    forks = args.forks or args.hosts
    start, load_start = time.monotonic(), os.getloadavg()
    hosts = fleet.hosts(args.hosts)
    skip.update(h.sshd_pid for h in hosts if h.sshd_pid)
    print(
        f"fleet: {len(hosts)} hosts in {time.monotonic() - start:.1f} s "
        f"({hosts[0].address} ... {hosts[-1].address})",
        flush=True,
    )
    known_hosts = fleet.write_known_hosts(work / "known_hosts", hosts)
    targets = [Target(h.name, h.address, h.port, h.user, str(h.key_file)) for h in hosts]
    wanted = settings()
    print(f"checking {wanted} with {forks} forks", flush=True)
    names = args.tools.split(",")
    sides = build_sides(work / "all", targets, known_hosts, wanted, forks, names)
    times = timed_rounds(sides, work, frozenset(skip), args.rounds, args.warmup)
    memory = {}
    if not args.no_memory:
        ones = build_sides(work / "one", targets[:1], known_hosts, wanted, 1, names)
        memory = memory_rounds(sides, ones, work, frozenset(skip), len(hosts))
    load_end = os.getloadavg()
    figures = report(times, memory, len(hosts))
    print(
        f"load average {load_start[0]:.2f} at the start, {load_end[0]:.2f} at the end "
        f"({os.cpu_count()} CPUs)"
    )
    figures.update(
        load_start=load_start,
        load_end=load_end,
        cpus=os.cpu_count(),
        python=platform.python_version(),
        forks=forks,
        settings=wanted,
    )
    return figures


def main() -> int:
    args = parse_args()
    if args.before is not None:
        PerflabBefore.checkout = args.before.resolve()
        if "before" not in args.tools.split(","):
            args.tools += ",before"
    if not become_subreaper():
        print(
            "warning: cannot become a child subreaper; detached processes are not counted",
            file=sys.stderr,
        )
    work = Path(tempfile.mkdtemp(prefix="perflab-fanout-"))
    fleet = Fleet()
    skip: set[int] = set()  # the fleet's sshd listeners: the hosts, not the controller
    try:
        figures = measure(args, fleet, work, skip)
    except BenchError as exc:
        print(f"fan-out benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        kill_descendants(frozenset(skip), grace=2)
        fleet.close()
        if args.keep_output:
            shutil.copytree(
                work,
                args.keep_output,
                dirs_exist_ok=True,
                symlinks=True,
                ignore=shutil.ignore_patterns("cp", "*.db*", "ansible-local"),
            )
        shutil.rmtree(work, ignore_errors=True)
    left = fleet.leftovers()
    if left:
        print(f"the fleet left things behind: {left}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    targets: dict[str, bool] = figures["targets"]  # type: ignore[assignment]
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
