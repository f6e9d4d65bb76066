"""Sequential A/A on real benchmarks: the same binary, plain runs one after the other.

    python3 bench/aa_sequential/run.py measure --runs 20     # perflab run sort.yaml x 20
    python3 bench/aa_sequential/run.py compare [--job aa-sort]

``measure`` runs the job (Go's sort benchmarks, ``sort.yaml``) on the local runner,
one plain run after another, into ``$PERFLAB_HOME``. ``compare`` takes the job's
completed runs in order and compares disjoint consecutive pairs (1 vs 2, 3 vs 4, ...)
as ``perflab compare`` does: with the run-to-run spread learned from the runs before
each pair (the default), and, for contrast, with runs declared exchangeable
(``--run-spread 0%``, the sample-level test perflab used before). Any regressed or
improved time row is a false alarm: nothing changed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))


def measure(runs: int) -> None:
    for i in range(runs):
        began = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perflab",
                "--no-color",
                "run",
                str(HERE / "sort.yaml"),
                "--lock-wait",
                "900",
                "--json",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        print(
            f"run {i + 1}: exit {done.returncode} in {time.monotonic() - began:.0f} s", flush=True
        )


def compare(job: str) -> None:
    from perflab.compare.engine import compare_stored
    from perflab.store import open_store

    with open_store() as store:
        ids = [r["run_id"] for r in store.runs.list(job=job, status="completed", limit=1000)]
        ids.reverse()  # oldest first
        totals = {"learned": Counter(), "exchangeable": Counter()}
        exits = {"learned": Counter(), "exchangeable": Counter()}
        print(
            f"{len(ids)} runs of {job}; pairs (baseline, candidate): exit status and the "
            "time rows' verdicts"
        )
        for k in range(0, len(ids) - 1, 2):
            base, cand = ids[k], ids[k + 1]
            line = [f"{base} {cand}"]
            for mode, spread in (("learned", None), ("exchangeable", "0%")):
                out = compare_stored(
                    store, base, cand, overrides={"run_spread": spread}, metrics=["time"]
                )
                counts = Counter(r.verdict for r in out.report.rows)
                totals[mode].update(counts)
                exits[mode][int(out.exit_status)] += 1
                geo = out.report.summary[0]
                spread_used = max((r.run_spread or 0.0) for r in out.report.rows)
                line.append(
                    f"{mode}: exit {int(out.exit_status)} "
                    f"{counts['regressed']}R/{counts['improved']}I/{counts['same']}S/"
                    f"{counts['unknown']}U geomean {geo.change:+.1%} {geo.verdict} "
                    f"(spread {spread_used:.0%})"
                )
            print(" | ".join(line), flush=True)
        for mode, counts in totals.items():
            rows = sum(counts.values())
            alarms = counts["regressed"] + counts["improved"]
            print(
                f"{mode}: {len(ids) // 2} pairs, exits {dict(sorted(exits[mode].items()))}, "
                f"{alarms} of {rows} time rows regressed/improved"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("measure").add_argument("--runs", type=int, default=20)
    sub.add_parser("compare").add_argument("--job", default="aa-sort")
    args = parser.parse_args()
    if args.what == "measure":
        measure(args.runs)
    else:
        print(f"PERFLAB_HOME={os.environ.get('PERFLAB_HOME', '(default)')}")
        compare(args.job)


if __name__ == "__main__":
    main()
