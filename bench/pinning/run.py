"""Pinning: an Erlang ring in a one-CPU shield next to a noisy neighbour, runtime default
settings against perflab-derived ones, side by side in one experiment.

    sudo python3 bench/pinning/run.py [--runs 15] [--hops 500000]

The workload is `ring.erl` (next to this script): a token passed around a ring of
1000 processes, `--hops` times; the program times the message passing itself
(monotonic clock) and prints it in perflab's JSON format. The noisy neighbour is
`stress-ng --cpu 1` pinned to every CPU (`taskset -c N`), each hog in a session
of its own, started by this script and killed by pid at the end. One perflab
experiment, `--profile shield --vary pin.runtime=none,erlang`, prepares the
host once (the shield moves the hogs to the housekeeping CPU), runs both
variants interleaved (A B, B A ...) and restores the host:

- none:   the VM's defaults (it sizes itself from the machine and the affinity)
- erlang: perflab-derived `+S 1:1 +SDcpu 1:1 +sbt db` in ERL_AFLAGS, proven by erl

Printed: median and CV per variant, what the VM reported, the proof, and whether
every hog got its own affinity back. Needs root (cgroups), stress-ng and erl/erlc.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def job_text(runs: int, hops: int) -> str:
    return (
        f"name: pinning-ring\nsetup: [{{run: erlc ring.erl}}]\nbenchmarks:\n"
        f"  - name: ring\n    command: erl -noshell -run ring main 1000 {hops}\n"
        f"    format: perflab\nrepetitions: {{warmup: 2, runs: {runs}}}\n"
        f"pin: {{runtime: erlang}}\n"
    )


def start_hogs(cpus: list[int]) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            ["taskset", "-c", str(cpu), "stress-ng", "--cpu", "1", "--timeout", "3600"],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for cpu in cpus
    ]


def stop_hogs(hogs: list[subprocess.Popen[bytes]]) -> None:
    for hog in hogs:
        if hog.poll() is None:
            os.killpg(hog.pid, signal.SIGKILL)  # the hog's own session: only what we started
        hog.wait()


def session_affinities(leader: int) -> list[str]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[3]) == leader:
            out += [
                line.split(":", 1)[1].strip()
                for line in status.splitlines()
                if line.startswith("Cpus_allowed_list")
            ]
    return out


def summary(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.stdev(samples) / statistics.fmean(samples)


def vm_said(run: dict) -> str:
    step = next(r for r in run["repetitions"] if r["kind"] == "run")
    path = step.get("stderr_path")
    return Path(path).read_text().strip() if path and Path(path).exists() else "?"


def experiment(work: Path, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "perflab",
            "run",
            str(work / "job.yaml"),
            "--profile",
            "shield",
            "--vary",
            "pin.runtime=none,erlang",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if done.returncode not in (0, 2):
        raise SystemExit(f"perflab run failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def report(doc: dict, load: tuple[float, float]) -> None:
    print(
        f"experiment {doc['experiment']}: pin.runtime = none, erlang; "
        f"{len(doc['rounds'])} rounds interleaved; load average {load[0]:.1f} before, "
        f"{load[1]:.1f} after (2 vCPUs, shared VM)"
    )
    print(f"{'variant':<8} {'n':>3} {'median':>10} {'cv':>7}  VM reported")
    medians = {}
    for run in doc["runs"]:
        samples = [s / 1000 for s in doc_samples(run)]
        median, cv = summary(samples)
        medians[run["variant"]["value"]] = median
        print(
            f"{run['variant']['value']:<8} {len(samples):>3} {median:>8.1f}ms {cv:>6.1%}  "
            f"{vm_said(run)}"
        )
    print(f"derived / default median: {medians['erlang'] / medians['none']:.3f}")
    pinned = doc["runs"][1]["tuning"]["pin"]
    erl = pinned["proof"]["answers"].get("probe-erlang-1", {})
    print(
        f"perflab applied {pinned['groups'][0]['env']} on CPU {pinned['cpus']}; proof "
        f"{'ok' if pinned['proof']['ok'] else 'FAILED'} (erl: schedulers_online="
        f"{erl.get('schedulers_online')}, bindings={erl.get('scheduler_bindings')})"
    )
    for run in doc["runs"]:
        for flag in run["flags"]:
            print(f"flag on {run['variant']['value']}: {flag['code']}: {flag['message'][:200]}")


def doc_samples(run: dict) -> list[float]:
    return run["benchmarks"][0]["metrics"]["time"]["samples"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--hops", type=int, default=500000)
    args = parser.parse_args()
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("stress-ng", "erl", "erlc")):
        raise SystemExit(
            "needs root, stress-ng and erl/erlc (apt-get install stress-ng erlang-base)"
        )
    cpus = sorted(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="perflab-bench-pinning-"))
    shutil.copy(HERE / "ring.erl", work / "ring.erl")
    (work / "job.yaml").write_text(job_text(args.runs, args.hops))
    env = {
        **os.environ,
        "PERFLAB_HOME": str(work / "home"),
        "PYTHONPATH": str(REPO),
        "PERFLAB_PREFIX": f"perflab-bench-{os.getpid()}",
        "PERFLAB_STATE_DIR": str(work / "state"),
    }
    hogs: list[subprocess.Popen[bytes]] = []
    try:
        hogs = start_hogs(cpus)
        time.sleep(1)
        before = os.getloadavg()[0]
        doc = experiment(work, env)
        after = os.getloadavg()[0]
        back = {cpu: session_affinities(hog.pid) for hog, cpu in zip(hogs, cpus, strict=True)}
        report(doc, (before, after))  # reads the runs' stderr files: before they are removed
    finally:
        stop_hogs(hogs)
        subprocess.run(
            [sys.executable, "-m", "perflab", "restore", "local"],
            env=env,
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(work, ignore_errors=True)
    wrong = {cpu: found for cpu, found in back.items() if set(found) != {str(cpu)}}
    print(
        "after restore: "
        + (
            "every hog has its own affinity back"
            if not wrong
            else f"hogs with another affinity: {wrong}"
        )
    )


if __name__ == "__main__":
    main()
