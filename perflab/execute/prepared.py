"""A run on a prepared host: prepare -> noise probe -> run in the shield -> restore.

``perflab run --profile P`` prepares the runner, runs, and restores even when
the run fails or is interrupted. Without ``--profile``, a runner prepared
earlier (``perflab prepare``) is detected from its state file and its shield
and fingerprint are used; an unprepared runner gets a fingerprint of its
tuning facts, so runs from differently tuned hosts never look alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from perflab.execute.adaptive import Adaptive
from perflab.execute.runner import Reporter, RunOptions, RunOutcome, run_job
from perflab.facts.cpulist import parse_cpulist
from perflab.pinning.profile import pin_from_notes, profile_pin
from perflab.pinning.spec import PinSpec
from perflab.prepare import engine
from perflab.prepare.host import RunnerHost
from perflab.prepare.noise import judge
from perflab.prepare.playbook import Profile
from perflab.spec.job import Job
from perflab.store import Store

QUICK_PROBE = {"repetitions": 60, "work_ms": 2.0}


@dataclass
class Preparation:
    profile: str | None
    fingerprint: str | None
    shield: dict[str, Any] | None
    tuning: dict[str, Any]
    probe: dict[str, Any] | None = None
    pin: PinSpec | None = None  # the profile's pin defaults


def _from_state(state: dict[str, Any]) -> Preparation:
    notes = state.get("notes") or {}
    return Preparation(str(state.get("profile")), notes.get("fingerprint"), notes.get("shield"),
                       {"profile": state.get("profile"), "prepared": "earlier"},
                       pin=pin_from_notes(notes))


def _probe(host: RunnerHost, prep: Preparation, thresholds: dict[str, Any]) -> dict[str, Any]:
    from perflab.prepare.verify import reserved_cpus, run_probe

    shield = prep.shield or {}
    cpus = parse_cpulist(shield["cpus"]) if shield else reserved_cpus(host)
    answer = run_probe(host, cpus, repetitions=int(QUICK_PROBE["repetitions"]),
                       work_ms=float(QUICK_PROBE["work_ms"]), tasks_file=shield.get("tasks_file"))
    return judge(answer, thresholds).to_dict()


def _flags(prep: Preparation) -> list[dict[str, Any]]:
    if not prep.probe or prep.probe["ok"]:
        return []
    failures = [f"cpu {c['cpu']}: " + "; ".join(c["failures"])
                for c in prep.probe["cpus"] if c["failures"]]
    return [{"code": "infra_contention_suspected",
             "message": "the noise probe failed before the run: " + " | ".join(failures),
             "evidence": {"probe": prep.probe}}]


@contextmanager
def prepared(host: RunnerHost, profile: Profile | None, opts: RunOptions, *,
             probe: bool = True) -> Iterator[tuple[RunOptions, list[dict[str, Any]]]]:
    """The runner prepared by ``profile`` (restored on the way out) or as found; yields the
    run options that carry the shield, fingerprint and pin defaults, and the probe's flags."""
    prepared_here = False
    try:
        if profile is not None:
            pin = profile_pin(profile, host.vars)  # refused before anything is applied
            report = engine.apply(engine.plan_profile(host, profile))
            prepared_here = True
            prep = Preparation(profile.name, report.fingerprint, report.shield,
                               {"profile": profile.name,
                                "knobs": [{"knob": p.knob, "status": p.status, "state": p.state}
                                          for p in report.plans],
                                "unmovable": len(report.unmovable)}, pin=pin)
        else:
            state = engine.prepared_state(host)
            prep = _from_state(state) if state else Preparation(None, None, None, {})
        if probe and prep.profile is not None:
            prep.probe = _probe(host, prep, profile.verify if profile else {})
        yield _options(opts, prep), _flags(prep)
    finally:
        if prepared_here:
            engine.restore(host)


def run_on_runner(job: Job, host: RunnerHost, store: Store, *, profile: Profile | None,
                  opts: RunOptions, reporter: Reporter | None = None,
                  probe: bool = True) -> RunOutcome:
    """Run ``job`` on ``host``, prepared by ``profile`` (restored afterwards) if given."""
    Adaptive.for_job(job, opts.baseline, store)  # a bad --baseline: refused before preparing
    with prepared(host, profile, opts, probe=probe) as (ready, flags):
        return run_job(job, host.transport, store, ready, reporter, flags=flags)


def _options(opts: RunOptions, prep: Preparation) -> RunOptions:
    shield = prep.shield or {}
    return replace(opts, fingerprint=prep.fingerprint, tuning=prep.tuning or None,
                   cgroups=[shield["tasks_file"]] if shield.get("tasks_file") else [],
                   shield_cpus=parse_cpulist(shield["cpus"]) if shield else None,
                   pin=prep.pin)

