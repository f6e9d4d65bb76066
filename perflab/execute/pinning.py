"""Pinning inside a run: plan it from the placement, record it, prove it afterwards.

The pure work is in :mod:`perflab.pinning`; this is the thin shell around a
:class:`~perflab.execute.runner.JobRun`: it reads the run's placement and the
host's online CPUs, stores the settings (and the fingerprint that includes
them) on the run, and after the last repetition reads the probes' outputs,
compares them with what was applied, writes ``pinning.json`` into the run
folder and marks the run when the runtime did not obey.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab.facts.cpulist import parse_cpulist
from perflab.pinning.cpus import Placement
from perflab.pinning.plan import PinPlan, plan_pin, with_env, with_pinning, with_probes
from perflab.pinning.proof import ProbeResult, prove
from perflab.spec.pin import merge

if TYPE_CHECKING:
    from perflab.execute.runner import JobRun

__all__ = ["plan_run", "prove_run", "with_env", "with_pinning", "with_probes"]
TAIL_LINES = 5


def pinned_fingerprint(base: str, plan: PinPlan) -> str:
    """The host's tuning fingerprint combined with the scheduling settings."""
    data = {"host": base, "pin": plan.fingerprint_data()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def plan_run(run: JobRun, env: dict[str, Any], placement: Placement, rundir: str) -> PinPlan | None:
    """The run's pin plan (None when the job asks for nothing beyond CPUs), stored on it."""
    from perflab.execute.runner import unprepared_fingerprint

    spec = merge(run.job.pin, run.opts.pin)
    if not spec.active:
        return None
    online = parse_cpulist((env.get("cpu") or {}).get("online") or "0")
    plan = plan_pin(
        run.job,
        spec,
        placement.cpus or online,
        pinned=placement.cpus is not None,
        extra_env=run.opts.env,
        python=run.transport.python,
        rundir=rundir,
    )
    base = run.opts.fingerprint or unprepared_fingerprint(env, placement)
    tuning = dict(run.store.runs.get(run.run_id).fields.get("tuning") or {})
    tuning["pin"] = plan.to_dict()
    tuning["fingerprint_parts"] = {"host": base, "pin": pinned_fingerprint("", plan)}
    run.store.runs.update_run(run.run_id, fingerprint=pinned_fingerprint(base, plan), tuning=tuning)
    return plan


def _text(path: str | None) -> str:
    return Path(path).read_text(encoding="utf-8", errors="replace") if path else ""


def _results(run: JobRun, plan: PinPlan) -> dict[str, ProbeResult]:
    steps = {s["id"]: s for s in plan.steps}
    out = {}
    for record in run.records:
        if record.kind != "probe" or record.id not in steps:
            continue
        event = record.event
        error = None
        if not record.ok:
            tail = _text(event.get("stderr")).strip().splitlines()[-TAIL_LINES:]
            what = event.get("error") or f"exit status {event.get('exit')}"
            error = what + (": " + " | ".join(tail) if tail else "")
        step = steps[record.id]
        out[record.id] = ProbeResult(
            record.id, step["probe"], step["group"], record.ok, _text(event.get("stdout")), error
        )
    return out


def prove_run(run: JobRun, plan: PinPlan) -> None:
    """Compare the probes' answers with the applied settings; store and flag the result."""
    results = _results(run, plan)
    if not results:  # refused, or stopped before the probes: nothing was measured either
        return
    proof = prove(plan, results)
    evidence = {"pin": plan.to_dict(), "proof": proof.to_dict()}
    (run.raw_dir / "pinning.json").write_text(
        json.dumps(evidence, indent=2, default=str), encoding="utf-8"
    )
    fields = run.store.runs.get(run.run_id).fields
    tuning = dict(fields.get("tuning") or {})
    tuning["pin"] = {**tuning.get("pin", {}), "proof": proof.to_dict()}
    flags = [*(fields.get("flags") or []), *proof.flags(evidence)]
    run.store.runs.update_run(run.run_id, tuning=tuning, flags=flags)
