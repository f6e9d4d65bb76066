"""Colour follows the conventions: a terminal gets it, NO_COLOR and --no-color take it
away everywhere (tables and the error prefix alike), FORCE_COLOR gives it to a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from perflab.store import open_store

ESC = "\x1b["
RED_ERROR = "\x1b[31mperflab: error:"
GREEN = "\x1b[32m"


@pytest.fixture
def stored(home: Path) -> str:
    """One completed run, so that `results list` prints a status in colour."""
    with open_store() as store:
        store.runs.create_run(
            "c0105e01",
            job="j",
            job_sha256="0" * 64,
            job_spec={"name": "j"},
            runner="local",
            platform="linux-x86_64",
            status="completed",
            perflab_version="test",
        )
    return "c0105e01"


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    return {**env, "TERM": "xterm-256color", **extra}


def on_terminal(*argv: str, **extra: str) -> str:
    """What `perflab ARGV` writes to a terminal (a pseudo-terminal for stdout and stderr)."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "perflab", *argv],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
            env=environ(**extra),
        )
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    process.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", "replace")


def on_pipes(*argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perflab", *argv],
        capture_output=True,
        text=True,
        env=environ(**extra),
        timeout=60,
        check=False,
    )


class TestTerminal:
    def test_colour_on_a_terminal_by_default(self, stored: str) -> None:
        """A person at a terminal gets the red error prefix and coloured statuses."""
        assert RED_ERROR in on_terminal("runner", "show", "nosuch")
        assert GREEN in on_terminal("results", "list")

    @pytest.mark.parametrize("how", ["NO_COLOR", "--no-color"])
    def test_no_color_everywhere(self, stored: str, how: str) -> None:
        """NO_COLOR=1 or --no-color: not one escape sequence, in the error prefix or the
        tables (the prefix used to stay red on a terminal)."""
        extra = {"NO_COLOR": "1"} if how == "NO_COLOR" else {}
        flag = ["--no-color"] if how == "--no-color" else []
        error = on_terminal(*flag, "runner", "show", "nosuch", **extra)
        assert "perflab: error: unknown runner" in error and ESC not in error
        table = on_terminal(*flag, "results", "list", **extra)
        assert stored in table and ESC not in table

    def test_an_empty_no_color_is_not_set(self, stored: str) -> None:
        """NO_COLOR counts only when it is not empty (no-color.org)."""
        assert RED_ERROR in on_terminal("runner", "show", "nosuch", NO_COLOR="")

    def test_no_color_wins_over_force_color(self, stored: str) -> None:
        """Both set: no colour (saying no is the stronger wish)."""
        assert ESC not in on_terminal("results", "list", NO_COLOR="1", FORCE_COLOR="1")


class TestPipes:
    def test_no_colour_into_a_pipe(self, stored: str) -> None:
        """Output into a pipe or file has no escape sequences."""
        done = on_pipes("results", "list")
        assert stored in done.stdout and ESC not in done.stdout
        assert ESC not in on_pipes("runner", "show", "nosuch").stderr

    def test_force_color(self, stored: str) -> None:
        """FORCE_COLOR=1 colours a pipe: CI logs that render ANSI."""
        assert GREEN in on_pipes("results", "list", FORCE_COLOR="1").stdout
        assert on_pipes("runner", "show", "nosuch", FORCE_COLOR="1").stderr.startswith(RED_ERROR)

    def test_no_color_option_beats_force_color(self, stored: str) -> None:
        """--no-color on the command line wins over FORCE_COLOR in the environment."""
        done = on_pipes("--no-color", "results", "list", FORCE_COLOR="1")
        assert stored in done.stdout and ESC not in done.stdout
