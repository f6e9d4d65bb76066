"""The command exits without the interpreter's teardown (cli.main.exit_now), and loses
nothing by it: exit handlers run, buffered output is written, the status is kept, and a
thread still running is waited for as by a normal exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_handlers_run_and_buffered_output_is_written() -> None:
    done = run(
        """
        import atexit, sys, tempfile
        from perflab.cli.main import exit_now
        atexit.register(lambda: print("handler ran"))
        scratch = tempfile.TemporaryDirectory()  # cleaned up by its exit handler
        print(scratch.name)
        sys.stdout.write("x" * 100_000)  # still in the buffer
        sys.stderr.write("to stderr")
        exit_now(5)
        """
    )
    assert done.returncode == 5
    lines = done.stdout.splitlines()
    assert lines[1].startswith("x" * 100_000) and lines[1].endswith("handler ran")
    assert done.stderr == "to stderr"
    assert not Path(lines[0]).exists()


def test_a_running_thread_is_waited_for() -> None:
    done = run(
        """
        import threading, time
        from perflab.cli.main import exit_now
        def late():
            time.sleep(0.3)
            print("thread finished", flush=True)
        threading.Thread(target=late).start()
        exit_now(3)
        """
    )
    assert done.returncode == 3
    assert done.stdout == "thread finished\n"


def test_the_command_line_exits_with_its_status() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perflab", "results", "show", "no-such-run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "no-such-run" in done.stderr


def test_a_profiler_still_gets_its_data(tmp_path: Path) -> None:
    """Under ``python -m cProfile`` the exit is the normal one, so the profile is written."""
    out = tmp_path / "profile.out"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "perflab", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
