"""The ``perflab`` command: a thin shell that parses, calls one function, renders.

Subcommands live in their own modules and are imported only when used, so
``perflab --version`` and ``perflab parse`` start fast. Every expected error
becomes one line on stderr and an exit status (see :class:`ExitStatus`);
``--traceback`` shows the rest, and unexpected errors write a debug log.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from perflab import __version__
from perflab.cli.env import Env
from perflab.errors import ExitStatus, PerflabError, SpecErrors

COMMANDS: dict[str, str] = {
    "run": "perflab.cli.run:run",
    "parse": "perflab.cli.parse:parse",
    "validate": "perflab.cli.validate:validate",
    "results": "perflab.cli.results:results",
    "prepare": "perflab.cli.prepare:prepare",
    "restore": "perflab.cli.prepare:restore",
    "verify": "perflab.cli.prepare:verify",
    "runner": "perflab.cli.runner:runner",
    "compare": "perflab.cli.compare:compare",
    "ab": "perflab.cli.ab:ab",
    "baseline": "perflab.cli.baseline:baseline",
    "history": "perflab.cli.history:history",
    "report": "perflab.cli.report:report",
    "submit": "perflab.cli.submit:submit",
    "jobs": "perflab.cli.jobs:jobs",
    "worker": "perflab.cli.worker:worker",
    "status": "perflab.cli.worker:status",
    "sweep": "perflab.cli.sweep:sweep",
    "beat": "perflab.cli.sweep:beat",
    "config": "perflab.cli.config:config_",
}


class LazyGroup(click.Group):
    """Imports a subcommand's module only when that subcommand is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="perflab")
@click.option("--traceback", is_flag=True, help="Show the full traceback of an error.")
@click.option(
    "-F",
    "--ssh-config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SSH config file to read instead of ~/.ssh/config and /etc/ssh/ssh_config "
    "(as ssh -F; also $PERFLAB_SSH_CONFIG).",
)
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour or other styling, even on a terminal (as NO_COLOR=1 does; "
    "FORCE_COLOR=1 colours a pipe).",
)
@click.pass_context
def cli(ctx: click.Context, traceback: bool, ssh_config: Path | None, no_color: bool) -> None:
    """perflab: prepared runners, benchmark jobs, noise-aware comparison.

    Exit status: 0 success, 1 error, 2 a regression or an untuned host,
    3 invalid input, 4 could not measure (nothing regressed), 130 interrupted.
    """
    env = ctx.ensure_object(Env)
    env.traceback = traceback
    env.no_color = no_color
    ctx.call_on_close(_notes_to_stderr(env))
    if ssh_config is not None:
        from perflab import config

        ctx.with_resource(config.ssh_config_named(ssh_config))


def _notes_to_stderr(env: Env) -> Callable[[], None]:
    """What the library has to say beside its results (``logging.getLogger("perflab")``,
    warnings and up: a busy runner waited for, a stale preparation restored) goes to
    stderr as ``perflab: note: ...`` while a command runs; stdout stays the command's own
    (``--json``). Returns what takes the handler off again. (logging is imported here, not
    for `perflab --version`.)"""
    import logging

    class NoteHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with contextlib.suppress(OSError, ValueError):
                env.stderr.write(f"perflab: note: {record.getMessage()}\n")
                env.stderr.flush()

    handler = NoteHandler(logging.WARNING)
    log = logging.getLogger("perflab")
    log.addHandler(handler)
    return lambda: log.removeHandler(handler)


def _crash_log(exc: BaseException) -> str | None:
    from perflab import config

    try:
        folder = config.ensure_home() / "logs"
        folder.mkdir(exist_ok=True)
        path = folder / f"crash-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return str(path)
    except OSError:
        return None


def _report(env: Env, exc: BaseException) -> int:
    if isinstance(exc, PerflabError):
        if env.traceback:
            traceback.print_exception(exc, file=env.stderr)
        lines = [str(e) for e in exc.errors] if isinstance(exc, SpecErrors) else [str(exc)]
        for line in lines:
            env.error(line)
        if exc.hint:
            env.stderr.write(f"  hint: {exc.hint}\n")
        return int(exc.exit_status)
    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code)
    if isinstance(exc, click.ClickException):
        env.error(exc.format_message())
        return int(ExitStatus.INVALID_INPUT)
    if isinstance(exc, KeyboardInterrupt | click.exceptions.Abort):
        from perflab import signals

        signum = signals.received()
        env.error(
            "interrupted" if signum is None else f"interrupted by {signal.Signals(signum).name}"
        )
        return int(ExitStatus.INTERRUPTED)
    if isinstance(exc, BrokenPipeError):
        return int(ExitStatus.ERROR)
    log = _crash_log(exc)
    env.error(f"unexpected error: {type(exc).__name__}: {exc}")
    if env.traceback:
        traceback.print_exception(exc, file=env.stderr)
    env.stderr.write(
        f"  This is a bug in perflab. Details: {log or '(could not write a log)'};"
        " please report it with that file.\n"
    )
    return int(ExitStatus.ERROR)


def _exit_code(env: Env, exc: SystemExit) -> int:
    if isinstance(exc.code, int):
        return exc.code
    if exc.code is not None:
        env.error(str(exc.code))
    return int(exc.code is not None)


def run_cli(argv: list[str] | None = None, env: Env | None = None) -> int:
    """Run the command line; returns the exit status (tests call this directly).

    Interrupted by SIGTERM or SIGHUP rather than Ctrl-C, the status is 128 + the
    signal's number (143, 129), as a shell reports a process killed by it."""
    from perflab import signals

    env = env or Env()
    try:
        cli.main(args=argv, prog_name="perflab", standalone_mode=False, obj=env)
        status = env.exit_status
    except SystemExit as exc:  # shell completion ends with sys.exit(0), by design
        status = _exit_code(env, exc)
    except BaseException as exc:  # every exit path maps to a documented status
        try:
            status = _report(env, exc)
        except OSError:  # the terminal went away (SIGHUP): the status still counts
            status = (
                int(ExitStatus.INTERRUPTED)
                if isinstance(exc, KeyboardInterrupt)
                else int(ExitStatus.ERROR)
            )
    signum = signals.received()
    if status == ExitStatus.INTERRUPTED and signum is not None:
        return signals.exit_status(signum)
    return status


def main() -> Any:
    from perflab import signals

    signals.install()
    status = run_cli(sys.argv[1:])
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    exit_now(status)


def exit_now(status: int) -> NoReturn:
    """Exit with ``status`` after the exit handlers, without the interpreter's teardown.

    Tearing down the modules a command loaded (SQLAlchemy's above all) took 0.15-0.3 s
    of every command's time, after its work was done. The exit handlers still run
    (logging's flush, temporary directories' cleanup, thread pools' joins) and the
    standard streams are flushed; files are all closed by the ``with`` blocks that
    opened them. While another thread still runs, or under a profiler or tracer (they
    write their data after ``main`` returns), the exit is the normal one."""
    import atexit
    import threading

    if threading.active_count() > 1 or sys.getprofile() or sys.gettrace():
        sys.exit(status)  # a profiler or a coverage tracer writes its data after main
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe has nobody left to tell
            stream.flush()
    os._exit(status)
