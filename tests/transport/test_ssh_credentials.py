"""Secrets perflab uses without keeping them: an SSH password, a key's passphrase, a sudo
password, each read from the environment variable a reference names, when it is needed
(the fleet hosts that ask for them: tests/fleet/variants.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import HostError, InputError
from perflab.transport.credentials import Credentials, EnvSecret
from tests.fleet import Fleet
from tests.fleet.variants import (
    PASSPHRASE,
    SSH_PASSWORD,
    SUDO_PASSWORD,
    passphrase_host,
    password_host,
    sudo_host,
)

pytestmark = pytest.mark.root

PW_ENV, SUDO_ENV, PP_ENV = "PERFLAB_TEST_SSH_PW", "PERFLAB_TEST_SUDO_PW", "PERFLAB_TEST_KEY_PP"


class TestSSHPassword:
    def test_password_from_the_environment(
        self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Keys refused, the password read from the named variable logs in."""
        monkeypatch.setenv(PW_ENV, SSH_PASSWORD)
        t = ssh(
            password_host(fleet),
            key_file=fleet.wrong_key.path,
            credentials=Credentials(ssh_password=EnvSecret("perflab_ssh_password_env", PW_ENV)),
        )
        assert t.run(["echo", "in"]).text() == "in\n"

    def test_variable_not_set(self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch) -> None:
        """The reference names a variable that is not set: the error says which."""
        monkeypatch.delenv(PW_ENV, raising=False)
        t = ssh(
            password_host(fleet),
            key_file=fleet.wrong_key.path,
            name="pw1",
            credentials=Credentials(ssh_password=EnvSecret("perflab_ssh_password_env", PW_ENV)),
        )
        with pytest.raises(HostError) as caught:
            t.run(["true"])
        assert f"perflab_ssh_password_env names ${PW_ENV}, which is not set" in str(caught.value)

    def test_wrong_password(self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch) -> None:
        """A wrong password fails like a wrong key, naming where it came from, never it."""
        monkeypatch.setenv(PW_ENV, "not-the-password")
        t = ssh(
            password_host(fleet),
            key_file=fleet.wrong_key.path,
            name="pw2",
            credentials=Credentials(ssh_password=EnvSecret("perflab_ssh_password_env", PW_ENV)),
        )
        with pytest.raises(HostError) as caught:
            t.run(["true"])
        message = str(caught.value)
        assert "authentication as 'root'" in message and f"${PW_ENV}" in message
        assert "not-the-password" not in message


class TestKeyPassphrase:
    def test_passphrase_from_the_environment(
        self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An encrypted key file is opened with the passphrase from the named variable."""
        host, key_file = passphrase_host(fleet)
        monkeypatch.setenv(PP_ENV, PASSPHRASE)
        t = ssh(
            host,
            key_file=key_file,
            credentials=Credentials(
                key_passphrase=EnvSecret("perflab_ssh_key_passphrase_env", PP_ENV)
            ),
        )
        assert t.run(["true"]).ok

    def test_variable_not_set(self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the variable: exit 3 naming the key file and the variable."""
        host, key_file = passphrase_host(fleet)
        monkeypatch.delenv(PP_ENV, raising=False)
        t = ssh(
            host,
            key_file=key_file,
            name="pp1",
            credentials=Credentials(
                key_passphrase=EnvSecret("perflab_ssh_key_passphrase_env", PP_ENV)
            ),
        )
        with pytest.raises(InputError) as caught:
            t.run(["true"])
        assert str(key_file) in str(caught.value) and f"${PP_ENV}" in str(caught.value)

    def test_no_reference(self, fleet: Fleet, ssh) -> None:
        """An encrypted key file and no reference: exit 3 saying how to give the passphrase
        (it was an unexpected TypeError before)."""
        host, key_file = passphrase_host(fleet)
        t = ssh(host, key_file=key_file, name="pp0")
        with pytest.raises(InputError, match="is encrypted with a passphrase") as caught:
            t.run(["true"])
        assert "perflab_ssh_key_passphrase_env" in (caught.value.hint or "")

    def test_wrong_passphrase(self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch) -> None:
        """A passphrase that does not open the key: exit 3, the passphrase never shown."""
        host, key_file = passphrase_host(fleet)
        monkeypatch.setenv(PP_ENV, "wrong-passphrase")
        t = ssh(
            host,
            key_file=key_file,
            name="pp2",
            credentials=Credentials(
                key_passphrase=EnvSecret("perflab_ssh_key_passphrase_env", PP_ENV)
            ),
        )
        with pytest.raises(InputError) as caught:
            t.run(["true"])
        assert "does not open" in str(caught.value)
        assert "wrong-passphrase" not in str(caught.value)


class TestSudoPassword:
    def test_runner_reads_the_sudo_password_when_sudo_asks(
        self, fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A runner opened from its stored row (perflab_become_password_env) gives sudo the
        password from that variable, on stdin when sudo's prompt asks: never on a command
        line."""
        from perflab.runners import ssh_transport

        host, folder = sudo_host(fleet)
        monkeypatch.setenv("PERFLAB_HOME", str(tmp_path))
        (tmp_path / "known_hosts").write_text(host.known_hosts_line() + "\n")
        row = {
            "address": host.address,
            "port": host.port,
            "user": host.user,
            "key_file": str(host.key_file),
            "vars": {"perflab_become_password_env": SUDO_ENV},
        }
        with ssh_transport("sudo1", row) as t:
            monkeypatch.setenv(SUDO_ENV, SUDO_PASSWORD)  # read when needed, not at opening
            assert t.run(["echo", "ran"], sudo=True).text() == "ran\n"
        log = (folder / "sudo.log").read_text()
        assert log.startswith("-S -p perflab-sudo-password: -- ") and SUDO_PASSWORD not in log

    def test_variable_not_set(self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch) -> None:
        """sudo asks, the variable is not set: the error says so (and the command did not
        run)."""
        host, folder = sudo_host(fleet)
        monkeypatch.delenv(SUDO_ENV, raising=False)
        t = ssh(
            host,
            name="sudo2",
            credentials=Credentials(
                become_password=EnvSecret("perflab_become_password_env", SUDO_ENV)
            ),
        )
        with pytest.raises(HostError) as caught:
            t.run(["echo", "ran"], sudo=True)
        assert "sudo asks for a password" in str(caught.value)
        assert f"perflab_become_password_env names ${SUDO_ENV}, which is not set" in str(
            caught.value
        )
        assert (folder / "sudo.log").read_text() == "-n -- echo ran\n"  # asked once, never ran

    def test_input_reaches_the_command_not_sudo(
        self, fleet: Fleet, ssh, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The command's stdin is sent once sudo has taken the password: all of it reaches
        the command."""
        host, _ = sudo_host(fleet)
        monkeypatch.setenv(SUDO_ENV, SUDO_PASSWORD)
        t = ssh(
            host,
            name="sudo3",
            credentials=Credentials(
                become_password=EnvSecret("perflab_become_password_env", SUDO_ENV)
            ),
        )
        assert (
            t.run(["cat"], stdin=b"first line\nsecond\n", sudo=True).text()
            == "first line\nsecond\n"
        )

    def test_wrong_password(
        self, fleet: Fleet, ssh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """sudo asks again: the error says whose password it refused; nothing ran, and the
        password is in no message."""
        host, _ = sudo_host(fleet)
        monkeypatch.setenv(SUDO_ENV, "not-the-Pw")
        t = ssh(
            host,
            name="sudo4",
            credentials=Credentials(
                become_password=EnvSecret("perflab_become_password_env", SUDO_ENV)
            ),
        )
        marker = tmp_path / "ran"
        with pytest.raises(HostError) as caught:
            t.run(["touch", str(marker)], sudo=True)
        assert f"sudo did not accept the password from ${SUDO_ENV}" in str(caught.value)
        assert "not-the-Pw" not in str(caught.value) and not marker.exists()

    @pytest.mark.timeout(60)
    def test_timeout_kills_a_command_run_by_sudo(
        self, fleet: Fleet, ssh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A command run through sudo (with a password) is killed at its timeout: the kill
        goes through sudo too, answering its prompt (a timestamp from the first sudo does
        not cover a command from another session)."""
        host, folder = sudo_host(fleet)
        monkeypatch.setenv(SUDO_ENV, SUDO_PASSWORD)
        t = ssh(
            host,
            name="sudo5",
            credentials=Credentials(
                become_password=EnvSecret("perflab_become_password_env", SUDO_ENV)
            ),
        )
        pid_file = tmp_path / "pid"
        result = t.run(f"echo $$ > {pid_file}; exec sleep 60", sudo=True, timeout=1)
        assert result.timed_out and result.duration_s < 8
        assert not Path(f"/proc/{pid_file.read_text().strip()}").exists()
        assert "kill -KILL" in (folder / "sudo.log").read_text()
