"""Connection cost: perflab's SSH transport opening N connections at once, against another
checkout's (``--before DIR``), interleaved in one run.

    .venv/bin/python bench/connect/run.py --before DIR [--hosts 50] [--rounds 10]   # as root

Builds N sshd hosts in network namespaces (tests/fleet). Each sample is a fresh
process (the checkout first on PYTHONPATH) that opens one ``SSHTransport`` per
host in N threads, runs ``true`` on each and keeps the connections: its CPU
time (``getrusage``) and the growth of its PSS, with N hosts and with one; per
host connection = the difference / (N - 1). No facts, no store, no start-up:
only what a connection costs the controller. bench/fanout measures the whole
commands.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # tests.fleet

from tests.fleet import Fleet  # noqa: E402 - after the path above

CHILD = r"""
import json, resource, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from perflab.transport.ssh import SSHTransport

def pss():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("Pss:"))

hosts, known = json.loads(sys.argv[1]), Path(sys.argv[2])
cpu0, wall0, pss0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic(), pss()

def connect(h):
    t = SSHTransport(h["name"], h["address"], port=22, user="root", key_file=Path(h["key"]),
                     known_hosts=known, user_known_hosts_file=None)
    t.run(["true"])
    return t

with ThreadPoolExecutor(len(hosts)) as pool:
    held = list(pool.map(connect, hosts))
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.monotonic() - wall0, "pss": pss() - pss0,
                  "cpu": cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime}))
for t in held:
    t.close()
"""


def sample(checkout: Path, hosts: str, known: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, hosts, known],
        capture_output=True,
        text=True,
        cwd="/tmp",
        check=False,
        env={**os.environ, "PYTHONPATH": str(checkout)},
    )
    if done.returncode:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--before",
        type=Path,
        required=True,
        metavar="DIR",
        help="another checkout, e.g. `git archive main | tar -x -C DIR`",
    )
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    sides = {"this": REPO, "before": args.before.resolve()}
    with Fleet() as fleet:
        hosts = fleet.hosts(args.hosts)
        known = str(fleet.write_known_hosts(fleet.directory / "known_hosts", hosts))
        spec = [{"name": h.name, "address": h.address, "key": str(h.key_file)} for h in hosts]
        every, one = json.dumps(spec), json.dumps(spec[:1])
        results: dict[str, dict[str, list[dict[str, float]]]] = {
            name: {"all": [], "one": []} for name in sides
        }
        for index in range(args.rounds):  # interleaved, the order alternating
            for name in list(sides) if index % 2 == 0 else list(sides)[::-1]:
                results[name]["all"].append(sample(sides[name], every, known))
                results[name]["one"].append(sample(sides[name], one, known))
    print(f"{args.hosts} hosts, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    for name, rows in results.items():
        cpu = [r["cpu"] for r in rows["all"]]
        per_host = (
            statistics.median(r["pss"] for r in rows["all"])
            - statistics.median(r["pss"] for r in rows["one"])
        ) / (args.hosts - 1)
        print(
            f"{name:7} wall {statistics.median(r['wall'] for r in rows['all']):.3f} s, "
            f"controller CPU {statistics.median(cpu):.3f} s ({min(cpu):.3f}-{max(cpu):.3f}), "
            f"PSS per host connection {per_host / 2**20:.3f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
