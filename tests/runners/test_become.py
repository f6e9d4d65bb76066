"""Become, as Ansible does it, on a runner whose login user is not root and whose sudo wants
a password (tests/fleet/variants.py: become_host), and `ansible_connection: local`.

The password comes from the environment variable perflab_become_password_env names, or is
typed at -K's prompt; it is never stored, and never reaches a command line."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.fleet.variants import BECOME_UID, BECOME_USER, SUDO_PASSWORD, become_host
from tests.knobs.fakesys import build

pytestmark = pytest.mark.root

SUDO_ENV = "PERFLAB_TEST_BECOME_PW"
PROFILE = "name: p\ntasks:\n  - swappiness: {value: 7}\n"


def chown_tree(path: Path, uid: int) -> None:
    for name in [path, *path.rglob("*")]:
        os.lchown(name, uid, uid)


@pytest.fixture
def lab(cli, fleet, tmp_path: Path, home: Path, request: pytest.FixtureRequest):
    """An inventory with the non-root host, pinned; a fake /sys and /proc in the user's home
    (the knobs change that, never this machine) and a state dir there."""
    host, home_root = become_host(fleet)
    tag = request.node.name[-12:].replace("[", "").replace("]", "")
    fake = build(home_root / BECOME_USER / f"fake-{tag}", cpus=2)
    (home_root / BECOME_USER / f"state-{tag}").mkdir()
    for path in (fake.root, home_root / BECOME_USER / f"state-{tag}"):
        chown_tree(path, BECOME_UID)
    inside = f"/home/{BECOME_USER}"
    base = {
        "ansible_host": host.address,
        "ansible_user": BECOME_USER,
        "ansible_ssh_private_key_file": str(host.key_file),
        "perflab_sysfs_root": f"/home/{fake.root.relative_to(home_root)}",
        "perflab_state_dir": f"{inside}/state-{tag}",
    }

    def register(**variables: object) -> str:
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"nr": {**base, **variables}}}}))
        result = cli("runner", "import", str(inventory))
        assert result.status == 0, result.err
        return "nr"

    home.mkdir(parents=True, exist_ok=True)
    (home / "known_hosts").write_text(host.known_hosts_line() + "\n")
    (tmp_path / "p.yml").write_text(PROFILE)
    return register, fake, home_root / "bin" / "sudo.log", tmp_path / "p.yml"


def swappiness(fake) -> str:
    return (fake.root / "proc/sys/vm/swappiness").read_text().strip()


class TestBecome:
    def test_login_user_is_not_root_without_become(self, cli, lab) -> None:
        """Without ansible_become, commands run as the login user: a profile that needs
        root is refused (exit 3) with a hint naming ansible_become; nothing changes."""
        register, fake, log, profile = lab
        name = register()
        from perflab.runners import open_runner

        with open_runner(name).transport as t:
            assert t.run(["id", "-u"]).text() == f"{BECOME_UID}\n"
        result = cli("prepare", name, "--profile", str(profile))
        assert result.status == 3
        assert "needs root" in result.err and "ansible_become" in result.err
        assert swappiness(fake) == "60" and log.read_text() == ""

    def test_become_with_the_password_from_the_environment(
        self, cli, lab, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """ansible_become: every command runs as root through sudo, which asks for the
        password: it comes from $PERFLAB_TEST_BECOME_PW. prepare and restore work; the
        password is on no command line."""
        register, fake, log, profile = lab
        name = register(ansible_become=True, perflab_become_password_env=SUDO_ENV)
        monkeypatch.setenv(SUDO_ENV, SUDO_PASSWORD)
        from perflab.runners import open_runner

        with open_runner(name).transport as t:
            assert t.run(["id", "-u"]).text() == "0\n"
        result = cli("prepare", name, "--profile", str(profile))
        assert result.status == 0, result.err + result.out
        assert swappiness(fake) == "7"
        assert cli("restore", name).status == 0
        assert swappiness(fake) == "60"
        calls = log.read_text()
        assert calls.count("-S -p perflab-sudo-password:") >= 3 and SUDO_PASSWORD not in calls

    def test_become_user_and_sudo_n_by_default(
        self, cli, lab, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """ansible_become_user names who commands run as; with no password to give, sudo runs
        with -n and its refusal says how to give one."""
        register, _, log, _ = lab
        monkeypatch.delenv(SUDO_ENV, raising=False)
        name = register(ansible_become=True, ansible_become_user="nobody")
        result = cli("runner", "ping", name, "--json")
        assert result.status == 1
        assert "sudo asks for a password for perflab" in result.json()["runners"][0]["error"]
        assert log.read_text() == "-n -u nobody -- true\n"
        monkeypatch.setenv(SUDO_ENV, SUDO_PASSWORD)
        name = register(
            ansible_become=True, ansible_become_user="nobody", perflab_become_password_env=SUDO_ENV
        )
        from perflab.runners import open_runner

        with open_runner(name).transport as t:
            assert t.run(["id", "-un"]).text() == "nobody\n"
        assert "-S -p perflab-sudo-password: -u nobody -- " in log.read_text()

    def test_become_password_typed_at_the_prompt(self, lab, home: Path, tmp_path: Path) -> None:
        """-K asks once on the terminal (not echoed) before connecting; the answer is used
        when sudo asks, and stored nowhere."""
        register, fake, log, profile = lab
        name = register(ansible_become=True)
        status, output = run_on_a_terminal(
            [sys.executable, "-m", "perflab", "prepare", name, "--profile", str(profile), "-K"],
            answer=SUDO_PASSWORD,
            env={**os.environ, "PERFLAB_HOME": str(home)},
        )
        assert "BECOME password:" in output and SUDO_PASSWORD not in output
        assert status == 0, output
        assert swappiness(fake) == "7"
        assert SUDO_PASSWORD.encode() not in b"".join(
            p.read_bytes() for p in home.rglob("*") if p.is_file()
        )
        assert SUDO_PASSWORD not in log.read_text()
        status, output = run_on_a_terminal(
            [sys.executable, "-m", "perflab", "restore", name, "-K"],
            answer="wrong",
            env={**os.environ, "PERFLAB_HOME": str(home)},
        )
        assert status == 1 and "sudo did not accept the password typed at the prompt" in output
        status, _ = run_on_a_terminal(
            [sys.executable, "-m", "perflab", "restore", name, "-K"],
            answer=SUDO_PASSWORD,
            env={**os.environ, "PERFLAB_HOME": str(home)},
        )
        assert status == 0 and swappiness(fake) == "60"


class TestBecomeAtRegistration:
    def test_runner_add_checks_python_through_sudo(
        self, cli, fleet, home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """runner add runs its Python check as the runner's become user: without a password
        sudo -n refuses and nothing is registered; -K gives one."""
        host, _ = become_host(fleet)
        monkeypatch.delenv(SUDO_ENV, raising=False)
        argv = [
            "runner",
            "add",
            "nr2",
            "--host",
            host.address,
            "--user",
            BECOME_USER,
            "--key",
            str(host.key_file),
            "--var",
            "ansible_become=true",
            "--accept-new-host-key",
        ]
        refused = cli(*argv)
        assert refused.status == 1 and "sudo asks for a password" in refused.err
        listed = cli("runner", "list", "--json").json()["runners"]
        assert [r["name"] for r in listed] == ["local"], "nothing registered but local"
        status, output = run_on_a_terminal(
            [sys.executable, "-m", "perflab", *argv, "-K"],
            answer=SUDO_PASSWORD,
            env={**os.environ, "PERFLAB_HOME": str(home)},
        )
        assert status == 0, output
        assert "registered nr2" in output


def run_on_a_terminal(
    argv: list[str], answer: str, env: dict[str, str], timeout: float = 120
) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as its controlling terminal; type ``answer`` when
    it asks for a password. Returns the exit status and everything it printed."""
    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is its terminal
        os.execve(argv[0], argv, env)
    output, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
            if not answered and b"password:" in output:
                os.write(master, answer.encode() + b"\n")
                answered = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


class TestLocalConnection:
    def test_ansible_connection_local_is_this_machine(self, cli, tmp_path: Path) -> None:
        """A host with ansible_connection: local is driven like `local`, without SSH: no
        host key, no address to reach."""
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": {
                            "controller": {
                                "ansible_connection": "local",
                                "ansible_host": "127.0.0.9",
                            }
                        }
                    }
                }
            )
        )
        assert cli("runner", "import", str(inventory)).status == 0
        facts = cli("runner", "facts", "controller", "--json")
        assert facts.status == 0, facts.err
        assert facts.json()["runners"][0]["result"]["kernel"] == os.uname().release
        added = cli("runner", "add", "here", "--var", "ansible_connection=local")
        assert added.status == 0 and "this machine" in added.out, added.err
        assert cli("runner", "ping", "here").status == 0
        assert not (Path(os.environ["PERFLAB_HOME"]) / "known_hosts").exists()

    def test_runner_processes_are_this_machines(self, cli, tmp_path: Path) -> None:
        """Commands on such a runner run here (their parent is this process)."""
        cli("runner", "add", "here2", "--var", "ansible_connection=local")
        from perflab.runners import open_runner

        with open_runner("here2").transport as t:
            assert t.run("echo $PPID").text().strip() == str(os.getpid())
