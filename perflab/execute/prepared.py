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

from perflab import signals
from perflab.errors import InputError
from perflab.execute.adaptive import Adaptive
from perflab.execute.flow import run_job
from perflab.execute.runner import Reporter, RunOptions, RunOutcome, new_run_id
from perflab.facts.cpulist import parse_cpulist
from perflab.pinning.profile import pin_from_notes, profile_pin
from perflab.prepare import engine
from perflab.prepare.host import RunnerHost
from perflab.prepare.lock import host_lock
from perflab.spec.job import Job
from perflab.spec.pin import PinSpec
from perflab.spec.playbook import Profile
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
    return Preparation(
        str(state.get("profile")),
        notes.get("fingerprint"),
        notes.get("shield"),
        {"profile": state.get("profile"), "prepared": "earlier"},
        pin=pin_from_notes(notes),
    )


def _probe(host: RunnerHost, prep: Preparation, thresholds: dict[str, Any]) -> dict[str, Any]:
    from perflab.prepare.verify import judged_probe, reserved_cpus

    shield = prep.shield or {}
    cpus = parse_cpulist(shield["cpus"]) if shield else reserved_cpus(host)
    return judged_probe(
        host,
        cpus,
        thresholds,
        repetitions=int(QUICK_PROBE["repetitions"]),
        work_ms=float(QUICK_PROBE["work_ms"]),
        tasks_file=shield.get("tasks_file"),
    ).to_dict()


def _flags(prep: Preparation) -> list[dict[str, Any]]:
    if not prep.probe or prep.probe["ok"]:
        return []
    failures = [
        f"cpu {c['cpu']}: " + "; ".join(c["failures"]) for c in prep.probe["cpus"] if c["failures"]
    ]
    return [
        {
            "code": "infra_contention_suspected",
            "message": "the noise probe failed before the run: " + " | ".join(failures),
            "evidence": {"probe": prep.probe},
        }
    ]


def _stale_flags(note: str | None) -> list[dict[str, Any]]:
    return [] if note is None else [{"code": "stale_preparation", "message": note}]


def _refuse_prepared(host: RunnerHost, state: dict[str, Any] | None) -> None:
    """A runner prepared on purpose (``perflab prepare``) is not re-prepared and then
    restored under its owner's feet by a run's ``--profile``."""
    if state is None:
        return
    raise InputError(
        f"runner {host.name} is already prepared (profile "
        f"{state.get('profile')}, by `perflab prepare`)",
        field="--profile",
        hint=f"run without --profile to measure on that preparation, or "
        f"`perflab restore {host.name}` first",
    )


@contextmanager
def prepared(
    host: RunnerHost,
    profile: Profile | None,
    opts: RunOptions,
    *,
    probe: bool = True,
    what: str = "run",
) -> Iterator[tuple[RunOptions, list[dict[str, Any]]]]:
    """The runner, locked for this command, prepared by ``profile`` (restored on the way
    out, whatever ends the run) or as found; yields the run options that carry the shield,
    fingerprint and pin defaults, and the flags (probe, stale preparation restored)."""
    with host_lock(host, what, wait=opts.lock_wait) as held:
        state, note = engine.recover_stale(host, held.state)
        flags = _stale_flags(note)
        prepared_here = False
        try:
            if profile is not None:
                _refuse_prepared(host, state)
                pin = profile_pin(profile, host.vars)  # refused before anything is applied
                session = engine.plan_profile(host, profile)
                prepared_here = True
                with signals.deferred():  # a half-applied profile is worse than a late stop
                    report = engine.apply(session, owner=held.owner_record("run"))
                prep = Preparation(
                    profile.name,
                    report.fingerprint,
                    report.shield,
                    {
                        "profile": profile.name,
                        "knobs": [
                            {"knob": p.knob, "status": p.status, "state": p.state}
                            for p in report.plans
                        ],
                        "unmovable": len(report.unmovable),
                    },
                    pin=pin,
                )
            else:
                prep = _from_state(state) if state else Preparation(None, None, None, {})
            if probe and prep.profile is not None:
                prep.probe = _probe(host, prep, profile.verify if profile else {})
            yield _options(opts, prep), flags + _flags(prep)
        finally:
            if prepared_here:
                with signals.deferred():
                    engine.restore(host)


def run_on_runner(
    job: Job,
    host: RunnerHost,
    store: Store,
    *,
    profile: Profile | None,
    opts: RunOptions,
    reporter: Reporter | None = None,
    probe: bool = True,
) -> RunOutcome:
    """Run ``job`` on ``host``, prepared by ``profile`` (restored afterwards) if given,
    holding the host lock throughout."""
    Adaptive.for_job(job, opts.baseline, store)  # a bad --baseline: refused before preparing
    opts = replace(opts, run_id=opts.run_id or new_run_id())
    with prepared(host, profile, opts, probe=probe, what=f"run {opts.run_id}") as (ready, flags):
        return run_job(job, host.transport, store, ready, reporter, flags=flags)


def _options(opts: RunOptions, prep: Preparation) -> RunOptions:
    shield = prep.shield or {}
    return replace(
        opts,
        fingerprint=prep.fingerprint,
        tuning=prep.tuning or None,
        cgroups=[shield["tasks_file"]] if shield.get("tasks_file") else [],
        shield_cpus=parse_cpulist(shield["cpus"]) if shield else None,
        pin=prep.pin,
    )
