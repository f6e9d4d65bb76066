"""``perflab prepare|restore|verify RUNNER``: tune runners, put them back, prove they are quiet."""

from __future__ import annotations

from typing import Any

import click

from perflab.cli import complete
from perflab.cli.become import ask_become_pass_option
from perflab.cli.env import Env
from perflab.cli.helptext import examples, json_option
from perflab.cli.runner import many_options
from perflab.errors import ExitStatus
from perflab.limits import MAX_PROBE_REPETITIONS

lock_wait_option = click.option(
    "--lock-wait",
    "lock_wait",
    type=click.FloatRange(0),
    metavar="SECONDS",
    help="Wait this long for a runner another command holds (default: $PERFLAB_LOCK_WAIT, "
    "else 0: a busy runner is an error at once).",
)


def _hosts(names: tuple[str, ...], group: str | None, every: bool) -> tuple[Any, list[str]]:
    from perflab.runners import select_runners
    from perflab.store import open_store

    store = open_store()
    if not names and not group and not every:
        names = ("local",)
    return store, select_runners(store, names, group=group, every=every)


@click.command(
    epilog=examples(
        "perflab prepare local --profile shield --check --diff",
        "perflab prepare --group linux_x86 --profile bare-metal --forks 32",
        "perflab prepare epyc-01 epyc-02 --facts",
    )
)
@many_options
@click.option(
    "--profile",
    "profile_ref",
    default="shield",
    show_default=True,
    shell_complete=complete.profiles,
    help="Playbook file or name in playbooks/.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing; show what would change (exit 2 if anything would).",
)
@click.option("--diff", is_flag=True, help="Show every value's old and new state.")
@click.option(
    "--facts",
    "with_facts",
    is_flag=True,
    help="Also gather and store the runners' platform facts, over the same "
    "connection (as `perflab runner facts` does).",
)
@lock_wait_option
@click.pass_obj
def prepare(
    env: Env,
    names: tuple[str, ...],
    group: str | None,
    every: bool,
    forks: int,
    as_json: bool,
    profile_ref: str,
    check: bool,
    diff: bool,
    with_facts: bool,
    lock_wait: float | None,
) -> None:
    """Apply a preparation profile (previous values are saved on the host first)."""
    from perflab.facts.platform import platform_request
    from perflab.prepare.locked import prepare_runner
    from perflab.runners import open_runner
    from perflab.runners.registry import save_facts
    from perflab.spec.playbook import load_profile

    profile = load_profile(profile_ref)
    store, chosen = _hosts(names, group, every)
    facts_request = platform_request() if with_facts else {"files": [], "commands": {}}

    def work(name: str) -> Any:
        host = open_runner(name, store)
        with host.transport:  # the facts come with the first probe: no extra round trip
            session, report = prepare_runner(
                host,
                profile,
                check=check,
                also=facts_request["files"],
                also_commands=facts_request["commands"],
                lock_wait=lock_wait,
            )
            facts = save_facts(store, host.name, session.answer) if with_facts else None
        report.facts = facts
        return report

    try:
        if len(chosen) == 1:
            report = work(chosen[0])
            _one_prepare(env, report, check=check, diff=diff, as_json=as_json)
            return
        outcomes = _many(
            env,
            chosen,
            work,
            forks,
            "prepare",
            as_json,
            ["changes", "fingerprint", "notes"],
            lambda r: [
                str(r.changed),
                (r.fingerprint or "")[:12],
                "; ".join(r.problems) or ("would change" if check and r.changed else ""),
            ],
        )
        if any(o.ok and ((check and o.value.changed) or o.value.problems) for o in outcomes):
            env.fail(ExitStatus.REGRESSION)  # as for one runner: not (yet) prepared
    finally:
        store.close()


def _one_prepare(env: Env, report: Any, *, check: bool, diff: bool, as_json: bool) -> None:
    from perflab.report.prepare import render_prepare

    if as_json:
        env.print_json(report.to_dict())
    else:
        render_prepare(env.console(), report, diff=diff or check)
    if (check and report.changed) or report.problems:
        env.fail(ExitStatus.REGRESSION)


def _many(
    env: Env,
    chosen: list[str],
    work: Any,
    forks: int,
    what: str,
    as_json: bool,
    columns: list[str],
    row: Any,
) -> list[Any]:
    from perflab.cli.fanout import render_outcomes, run_many

    outcomes = run_many(env, chosen, work, forks=forks, what=what, as_json=as_json)
    render_outcomes(env, outcomes, columns, row, as_json=as_json)
    return outcomes


@click.command()
@many_options
@lock_wait_option
@click.pass_obj
def restore(
    env: Env,
    names: tuple[str, ...],
    group: str | None,
    every: bool,
    forks: int,
    as_json: bool,
    lock_wait: float | None,
) -> None:
    """Put back every value the last preparation changed (safe to repeat)."""
    from perflab.prepare.locked import restore_runner
    from perflab.report.prepare import render_restore
    from perflab.runners import open_runner

    store, chosen = _hosts(names, group, every)

    def work(name: str) -> Any:
        host = open_runner(name, store)
        with host.transport:
            return restore_runner(host, lock_wait=lock_wait)

    try:
        if len(chosen) == 1:
            report = work(chosen[0])
            if as_json:
                env.print_json(report.to_dict())
            else:
                render_restore(env.console(), report)
            if report.failed:
                env.fail(ExitStatus.ERROR)
            return
        _many(
            env,
            chosen,
            work,
            forks,
            "restore",
            as_json,
            ["restored", "failed"],
            lambda r: [
                "nothing" if r.nothing else str(len(r.restored)),
                "; ".join(f["error"] for f in r.failed),
            ],
        )
    finally:
        store.close()


@click.command()
@click.argument("runner", shell_complete=complete.runners)
@click.option(
    "--profile",
    "profile_ref",
    shell_complete=complete.profiles,
    help="Probe before and after applying this profile (restored afterwards).",
)
@click.option(
    "--repetitions",
    default=200,
    show_default=True,
    type=click.IntRange(10, MAX_PROBE_REPETITIONS),
    help="Probe repetitions per reserved CPU.",
)
@json_option("the probe's figures")
@ask_become_pass_option
@lock_wait_option
@click.pass_obj
def verify(
    env: Env,
    runner: str,
    profile_ref: str | None,
    repetitions: int,
    as_json: bool,
    lock_wait: float | None,
) -> None:
    """Noise probe on the reserved CPUs; exit 2 (and quarantine) when too noisy to measure on."""
    from perflab.prepare.verify import verify_runner
    from perflab.report.prepare import render_verify
    from perflab.runners import open_runner
    from perflab.spec.playbook import load_profile
    from perflab.store import open_store

    profile = load_profile(profile_ref) if profile_ref else None
    store = open_store()
    try:
        host = open_runner(runner, store)
        with host.transport:
            result = verify_runner(host, profile, repetitions=repetitions, lock_wait=lock_wait)
        if not result.ok and runner != "local":
            worst = "; ".join(f for c in result.after.cpus for f in c.failures)
            store.runners.set_state(runner, "quarantined", f"noise probe failed: {worst}")
        if result.calibration is not None:  # reports normalise cross-platform ratios by it
            store.calibrations.record(
                runner,
                result.calibration,
                platform=_platform(host),
                details={
                    "cpus": result.cpus,
                    "ok": result.ok,
                    "iterations": result.iterations,
                    "profile": result.prepared_by,
                },
            )
    finally:
        store.close()
    if as_json:
        env.print_json(result.to_dict())
    else:
        render_verify(env.console(), result)
    if not result.ok:
        env.fail(ExitStatus.REGRESSION)


def _platform(host: Any) -> str | None:
    """The runner's platform as its registration says (None for an unregistered one)."""
    value = getattr(host, "platform", None) or (getattr(host, "vars", None) or {}).get(
        "perflab_platform"
    )
    return str(value) if value else None
