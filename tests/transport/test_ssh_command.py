"""The exec text sent to sshd, run here by real shells (dash and bash) as sshd would.

sshd runs the text with ``$SHELL -c`` in a new session; these tests do the same
with ``setsid``, so the script's semantics are checked without any SSH. Fake
``id`` and ``sudo`` programs on PATH stand in for a non-root user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.transport.become import BECOME_OK, PROMPT
from perflab.transport.ssh_command import (
    MAX_INLINE,
    file_script,
    kill_script,
    parse_pgid,
    remote_script,
    sudo_refusal,
)
from tests.fleet.variants import write_fake_sudo

SHELLS = [s for s in ("/bin/sh", "/bin/bash") if Path(s).exists()]


def run(
    script: str, shell: str = "/bin/sh", stdin: bytes = b"", path_prefix: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    return subprocess.run(
        ["setsid", shell, "-c", script],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
        timeout=30,
    )


def fake(directory: Path, name: str, body: str) -> None:
    tool = directory / name
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(0o755)


@pytest.fixture
def non_root(tmp_path: Path) -> Path:
    """A PATH directory where ``id -u`` says 1000 and ``sudo`` logs its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake(bin_dir, "id", "echo 1000\n")
    fake(
        bin_dir,
        "sudo",
        f'echo "$*" >> {tmp_path}/sudo.log\n'
        'u=root; while [ "$1" != "--" ]; do [ "$1" = -u ] && u=$2; shift; done\n'
        'shift; exec runuser -u "$u" -- "$@"\n',
    )
    return bin_dir


class TestRemoteScript:
    @pytest.mark.parametrize("shell", SHELLS)
    def test_pgid_line_first_then_command(self, shell: str) -> None:
        """stderr starts with the group id (the shell's pid, a session leader) and uid."""
        done = run(remote_script(["sh", "-c", "echo $$"]), shell)
        first, _, rest = done.stderr.decode().partition("\n")
        pgid, uid = parse_pgid(first) or (0, -1)
        assert pgid == int(done.stdout)  # exec kept the pid: the command is the group leader
        assert uid == os.geteuid()
        assert rest == ""

    @pytest.mark.parametrize("shell", SHELLS)
    def test_awkward_arguments_survive(self, shell: str) -> None:
        """Quotes, spaces, globs, newlines and $ in argv and env reach the program intact."""
        weird = ["it's", '"q"', "a b", "*", "$HOME", "line\nbreak", ""]
        done = run(remote_script(["printf", "<%s>", *weird], env={"V": "x'y $z"}), shell)
        assert done.stdout.decode() == "".join(f"<{w}>" for w in weird)
        done = run(remote_script('printf %s "$V"', env={"V": "x'y $z"}), shell)
        assert done.stdout == b"x'y $z"

    def test_cwd_and_missing_cwd(self, tmp_path: Path) -> None:
        """cd to cwd; a missing one is reported before the group id line, status 127."""
        assert run(remote_script(["pwd"], cwd=str(tmp_path))).stdout.decode().strip() == str(
            tmp_path
        )
        done = run(remote_script(["pwd"], cwd=str(tmp_path / "no")))
        assert done.returncode == 127
        assert done.stderr.decode().startswith("perflab-error: cannot change to directory")

    def test_bad_env_name(self) -> None:
        """Names the shell cannot export are InputError."""
        with pytest.raises(InputError, match="'1X'"):
            remote_script(["true"], env={"1X": "v"})

    def test_empty_argv(self) -> None:
        """An empty argv is InputError."""
        with pytest.raises(InputError, match="empty command"):
            remote_script([])

    def test_long_script_as_file(self, tmp_path: Path) -> None:
        """The file form runs the same script and removes its own file first."""
        script_file = tmp_path / "perflab-cmd.sh"
        script_file.write_text(file_script(remote_script(["echo", "x" * (MAX_INLINE + 10)])))
        done = subprocess.run(["sh", str(script_file)], capture_output=True, check=False)
        assert done.stdout.strip() == b"x" * (MAX_INLINE + 10)
        assert not script_file.exists()


class TestSudo:
    def test_root_runs_without_sudo(self, tmp_path: Path) -> None:
        """As root the command runs directly, with env passed through ``env``."""
        if os.geteuid() != 0:
            pytest.skip("needs root")
        done = run(remote_script('echo "$X"', env={"X": "1"}, sudo=True))
        assert done.stdout == b"1\n"

    def test_non_root_uses_sudo_n(self, non_root: Path, tmp_path: Path) -> None:
        """A non-root user runs ``sudo -n -- env VAR=... command``."""
        done = run(
            remote_script(["sh", "-c", 'echo "$X"'], env={"X": "v"}, sudo=True),
            path_prefix=non_root,
        )
        assert done.stdout == b"v\n"
        assert (tmp_path / "sudo.log").read_text() == '-n -- env X=v sh -c echo "$X"\n'

    def test_password_answers_sudos_prompt_not_the_command(
        self, non_root: Path, tmp_path: Path
    ) -> None:
        """With a sudo password, sudo runs the command itself with -S and perflab's prompt;
        the password answers that prompt, and the command reads only its own input. This
        works with a sudo that ties its timestamp to the parent process (as sudo does
        without a terminal), where validating first with `sudo -S -v` and then running
        `sudo -n` does not."""
        write_fake_sudo(non_root, 'exec "$@"', password="s3cret")
        done = run(
            remote_script(["cat"], env={"X": "1"}, sudo=True, sudo_password=True),
            stdin=b"s3cret\nuser input\n",
            path_prefix=non_root,
        )
        assert done.stdout == b"user input\n", done.stderr
        assert PROMPT in done.stderr.decode() and BECOME_OK in done.stderr.decode()
        log = (non_root / "sudo.log").read_text()
        assert log.startswith(f"-S -p {PROMPT} -- /bin/sh -c ") and log.endswith(" env X=1 cat\n")
        assert "s3cret" not in log

    def test_become_user(self, non_root: Path, tmp_path: Path) -> None:
        """Another become user than root: ``sudo -n -u USER``; the command runs as USER."""
        done = run(
            remote_script(["id", "-un"], sudo=True, sudo_user="nobody"), path_prefix=non_root
        )
        assert done.stdout == b"nobody\n", done.stderr
        assert (tmp_path / "sudo.log").read_text() == "-n -u nobody -- id -un\n"

    def test_refusals_recognized(self) -> None:
        """sudo's own refusals are told apart from a failing command."""
        assert sudo_refusal(1, b"sudo: a password is required\n") == "password"
        assert sudo_refusal(127, b"sh: 1: exec: sudo: not found\n") == "missing"
        assert sudo_refusal(1, b"some tool failed\n") is None


class TestKillScript:
    def test_kills_group_and_session(self) -> None:
        """The kill text signals the group, and for KILL the session's stragglers too."""
        assert kill_script(42, "INT", sudo=False) == "kill -INT -- -42 2>/dev/null; exit 0"
        text = kill_script(42, "KILL", sudo=True)
        assert text.startswith("sudo -n kill -KILL -- -42")
        assert "sudo -n pkill -KILL -s 42" in text

    def test_kills_a_real_group(self) -> None:
        """Run against a real background group: every member is gone afterwards."""
        if shutil.which("pkill") is None:
            pytest.skip("pkill (procps) missing")
        leader = subprocess.Popen(
            ["setsid", "sh", "-c", "sleep 300 & sleep 300"], stdout=subprocess.DEVNULL
        )
        try:
            subprocess.run(["sh", "-c", "sleep 0.2"], check=True)
            subprocess.run(["sh", "-c", kill_script(leader.pid, "KILL", sudo=False)], check=True)
            assert leader.wait(10) == -9
            states = subprocess.run(
                ["ps", "-o", "stat=", "-g", str(leader.pid)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            assert all(state.startswith("Z") for state in states)  # dead, maybe not reaped yet
        finally:
            if leader.poll() is None:
                leader.kill()
                leader.wait()


class TestParsePgid:
    def test_only_the_exact_line(self) -> None:
        """Only ``perflab-pgid <digits> <digits>`` counts."""
        assert parse_pgid("perflab-pgid 12 0") == (12, 0)
        assert parse_pgid("perflab-pgid 12") is None
        assert parse_pgid("perflab-pgid x 0") is None
        assert parse_pgid("hello") is None


class TestBecomeFromVars:
    def test_inventory_values(self) -> None:
        """ansible_become as YAML gives it (a bool) or INI does (text); off unless true."""
        from perflab.transport.become import Become

        assert Become.from_vars({}) is None
        assert Become.from_vars({"ansible_become": False}) is None
        assert Become.from_vars({"ansible_become": "no"}) is None
        assert Become.from_vars({"ansible_become": True}) == Become("root")
        assert Become.from_vars(
            {"ansible_become": "True", "ansible_become_user": "bench"}
        ) == Become("bench")
