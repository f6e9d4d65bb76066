"""SSHTransport.run / start against real sshd hosts in network namespaces."""

from __future__ import annotations

import threading

import pytest

import perflab.hostside
from perflab.errors import HostError
from tests.fleet import Fleet

pytestmark = pytest.mark.root


def alive(fleet_host, pid: int) -> bool:
    """A process exists and is not a zombie (checked from inside the host's namespace)."""
    state = fleet_host.exec("ps", "-o", "stat=", "-p", str(pid)).stdout.strip()
    return bool(state) and not state.startswith("Z")


class TestRun:
    def test_argv_env_cwd_stdin_and_status(self, fleet: Fleet, ssh) -> None:
        """An argv list runs unquoted-safe, with env exported, in cwd, fed stdin."""
        t = ssh(fleet.host("run"))
        result = t.run(
            ["sh", "-c", 'printf "%s|%s|" "$GREETING" "$(pwd)"; cat; exit 7'],
            env={"GREETING": 'it\'s a "test" $HOME'},
            cwd="/tmp",
            stdin=b"fed\n",
        )
        assert result.exit_status == 7
        assert result.stdout == b'it\'s a "test" $HOME|/tmp|fed\n'
        assert not result.ok

    def test_string_runs_in_sh(self, fleet: Fleet, ssh) -> None:
        """A string is a shell command line (pipes, redirections) with stderr kept apart."""
        result = ssh(fleet.host("run")).run("echo out; echo err >&2; echo a b | wc -w")
        assert result.ok
        assert result.stdout == b"out\n2\n"
        assert result.stderr == b"err\n"

    def test_signal_is_a_negative_status(self, fleet: Fleet, ssh) -> None:
        """A command killed by a signal reports minus the signal number, as locally."""
        assert ssh(fleet.host("run")).run("kill -TERM $$").exit_status == -15

    def test_missing_cwd_is_a_clear_error(self, fleet: Fleet, ssh) -> None:
        """A working directory that does not exist: status 127 and a message naming it."""
        result = ssh(fleet.host("run")).run(["true"], cwd="/nonexistent/perflab")
        assert result.exit_status == 127
        assert b"cannot change to directory /nonexistent/perflab" in result.stderr

    def test_missing_program(self, fleet: Fleet, ssh) -> None:
        """An argv whose program is not on the host: status 127, the program named."""
        result = ssh(fleet.host("run")).run(["perflab-no-such-program", "x"])
        assert result.exit_status == 127
        assert b"perflab-no-such-program: command not found" in result.stderr

    def test_binary_output_intact(self, fleet: Fleet, ssh) -> None:
        """Large binary output comes back byte for byte."""
        result = ssh(fleet.host("run")).run("head -c 3000000 /dev/zero | tr '\\0' '\\377'")
        assert result.stdout == b"\xff" * 3_000_000

    def test_env_name_must_be_a_shell_name(self, fleet: Fleet, ssh) -> None:
        """An environment name the shell cannot export is refused before anything runs."""
        from perflab.errors import InputError

        with pytest.raises(InputError, match="not a valid shell name"):
            ssh(fleet.host("run")).run(["true"], env={"A-B": "1"})


class TestTimeout:
    def test_timeout_kills_the_whole_group(self, fleet: Fleet, ssh) -> None:
        """Past the timeout the command, its child and its grandchild are all killed."""
        host = fleet.host("run")
        script = "sh -c 'sleep 300 & echo $! > /tmp/perflab-grandchild; wait' & sleep 300"
        result = ssh(host).run(script, timeout=1.0)
        assert result.timed_out
        assert not result.ok
        grandchild = int(host.exec("cat", "/tmp/perflab-grandchild").stdout)
        host.exec("rm", "-f", "/tmp/perflab-grandchild")
        assert not alive(host, grandchild)

    def test_no_timeout_when_fast(self, fleet: Fleet, ssh) -> None:
        """A command finishing in time is not marked timed out."""
        result = ssh(fleet.host("run")).run(["true"], timeout=30)
        assert result.ok and not result.timed_out


class TestStart:
    def test_lines_stream_then_interrupt(self, fleet: Fleet, ssh) -> None:
        """Lines arrive while the command runs; interrupt sends SIGINT to its group."""
        process = ssh(fleet.host("run")).start(
            "trap 'echo interrupted; exit 3' INT; echo ready; while :; do sleep 0.05; done"
        )
        lines = process.lines()
        assert next(lines) == "ready"
        process.interrupt()
        assert list(lines) == ["interrupted"]
        assert process.wait(30).exit_status == 3

    def test_kill_and_wait(self, fleet: Fleet, ssh) -> None:
        """kill ends the group; wait returns the signal as a negative status."""
        process = ssh(fleet.host("run")).start(["sleep", "300"])
        process.kill()
        assert process.wait(30).exit_status == -9

    def test_wait_keeps_unread_output_and_stdin(self, fleet: Fleet, ssh) -> None:
        """Output not consumed by lines() ends up in wait()'s result; stdin is delivered."""
        process = ssh(fleet.host("run")).start(["sh", "-c", "cat; echo tail >&2"], stdin=b"a\nb\n")
        result = process.wait(30)
        assert result.stdout == b"a\nb\n"
        assert result.stderr == b"tail\n"

    def test_start_of_missing_program_raises(self, fleet: Fleet, ssh) -> None:
        """A program that does not exist fails at start, as with the local transport."""
        with pytest.raises(HostError, match="perflab-no-such-program"):
            ssh(fleet.host("run")).start(["perflab-no-such-program"])

    def test_close_kills_what_still_runs(self, fleet: Fleet, ssh) -> None:
        """Closing the transport kills started processes: nothing stays on the runner."""
        host = fleet.host("run")
        t = ssh(host)
        process = t.start("echo $$; exec sleep 300")
        pid = int(next(process.lines()))
        t.close()
        assert not alive(host, pid)

    def test_wait_timeout_kills(self, fleet: Fleet, ssh) -> None:
        """wait(timeout) kills the group when the time is up and says so."""
        process = ssh(fleet.host("run")).start(["sleep", "300"])
        result = process.wait(0.5)
        assert result.timed_out


class TestSudo:
    def test_sudo_as_root_needs_no_sudo(self, fleet: Fleet, ssh) -> None:
        """Connected as root, a privileged command just runs (sudo is not even installed)."""
        result = ssh(fleet.host("run")).run(["id", "-u"], sudo=True, env={"X": "1"})
        assert result.stdout == b"0\n"

    def test_sudo_string_with_env(self, fleet: Fleet, ssh) -> None:
        """A privileged shell string gets its environment (passed through ``env``)."""
        result = ssh(fleet.host("run")).run('echo "$X"', sudo=True, env={"X": "kept"})
        assert result.stdout == b"kept\n"


class TestConnectionReuse:
    def test_many_commands_one_tcp_connection(self, fleet: Fleet, ssh) -> None:
        """All commands of one transport share one TCP connection (same client port)."""
        t = ssh(fleet.host("run"))
        seen = {t.run("echo $SSH_CONNECTION").text() for _ in range(8)}
        assert len(seen) == 1
        assert t.connections_opened == 1

    def test_threads_share_the_connection(self, fleet: Fleet, ssh) -> None:
        """Commands from several threads at once all succeed on the one connection."""
        t = ssh(fleet.host("run"))
        results: list[bytes] = []

        def work(i: int) -> None:
            results.append(t.check(["echo", str(i)]).stdout)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == sorted(f"{i}\n".encode() for i in range(6))
        assert t.connections_opened == 1


HOSTSIDE = """
import json, sys
request = json.load(sys.stdin)
json.dump({"echo": request, "size": len(open(__file__).read()) if "__file__" in globals() else 0},
          sys.stdout)
"""


class TestCallHostside:
    @pytest.mark.parametrize("padding", [0, 100_000])
    def test_hostside_module_over_ssh(self, fleet: Fleet, ssh, monkeypatch, padding: int) -> None:
        """call_hostside ships the source with python3 -c, also ~100 KB full of quotes.

        Quoted for the remote shell such a source is far over the 128 KiB a
        single exec argument may have; the transport then sends the command as
        a file. (The source itself must stay under 128 KiB, as locally.)
        """
        comment = '# it\'s "quoted" $(not run) `nor this`\n'
        source = HOSTSIDE + comment * (padding // len(comment))
        monkeypatch.setattr(perflab.hostside, "source", lambda module: source)
        t = ssh(fleet.host("run"))
        answer = t.call_hostside("perflab_echo", {"a": [1, "two"]})
        assert answer == {"echo": {"a": [1, "two"]}, "size": 0}
        assert t.run("ls /tmp | grep -c perflab-cmd- || true").stdout == b"0\n"
