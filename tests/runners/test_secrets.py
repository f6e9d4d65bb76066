"""Secrets are never stored or printed: `runner add` refuses them, `runner import` drops them.

Every test ends by scanning what perflab printed and every file under
``$PERFLAB_HOME`` (the SQLite database with its -wal and -shm files) for the
secret values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SECRETS = {
    name: f"S3cr3t-{i}-do-not-store"
    for i, name in enumerate(
        [
            "ansible_become_password",
            "ansible_ssh_password",
            "ansible_sudo_password",
            "db.password",
            "ansible_ssh_private_key_passphrase",
            "ansible_private_key_passphrase",
            "ansible_password",
            "ansible_su_pass",
        ]
    )
}
VAULTED = (
    "$ANSIBLE_VAULT;1.1;AES256\n"
    "62313365396662343061393464336163383764373764613633653634306231386433626436623361\n"
    "6134333665353966363534333632666535333761666131620a663537646436643839616531643561\n"
)


def stored_bytes(home: Path) -> bytes:
    """Every byte perflab keeps under its home (database, WAL, known_hosts, logs ...)."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def assert_nowhere(secrets: list[str], home: Path, *outputs: str) -> None:
    text = "\n".join(outputs)
    data = stored_bytes(home)
    for secret in secrets:
        assert secret not in text, f"{secret} was printed"
        assert secret.encode() not in data, f"{secret} was stored"


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A YAML inventory with secrets inline, in group_vars/ and in host_vars/, and names
    that merely look like secrets."""
    folder = tmp_path / "lab"
    (folder / "group_vars").mkdir(parents=True)
    (folder / "host_vars").mkdir()
    (folder / "hosts.yml").write_text(f"""\
all:
  vars:
    ansible_become_password: {SECRETS["ansible_become_password"]}
  children:
    lab:
      hosts:
        h1:
          ansible_host: 127.0.0.51
          ansible_ssh_password: {SECRETS["ansible_ssh_password"]}
          ansible_become_exe: /usr/bin/sudo
          ansible_sshpass_prompt: "Password:"
          ansible_ssh_password_mechanism: sshpass
        h2:
          ansible_host: 127.0.0.52
""")
    (folder / "group_vars" / "lab.yml").write_text(
        f"ansible_sudo_password: {SECRETS['ansible_sudo_password']}\n"
        f"db: {{password: {SECRETS['db.password']}, host: db.lab}}\n"
    )
    (folder / "host_vars" / "h2.yml").write_text(
        "ansible_user: lab\n"
        f"ansible_ssh_private_key_passphrase: {SECRETS['ansible_ssh_private_key_passphrase']}\n"
        f"ansible_private_key_passphrase: {SECRETS['ansible_private_key_passphrase']}\n"
    )
    return folder / "hosts.yml"


class TestRunnerAdd:
    @pytest.mark.parametrize(
        "name",
        [
            "ansible_password",
            "ansible_ssh_pass",
            "ansible_ssh_password",
            "ansible_become_pass",
            "ansible_become_password",
            "ansible_sudo_pass",
            "ansible_sudo_password",
            "ansible_su_pass",
            "ansible_su_password",
            "ansible_ssh_private_key_passphrase",
            "ansible_private_key_passphrase",
            "perflab_become_password",
            "db_token",
        ],
    )
    def test_secret_var_is_refused_before_connecting(self, cli, home: Path, name: str) -> None:
        """`--var NAME=secret`: exit 3 with one line saying how to pass it instead; nothing
        registered, nothing stored, the value never printed."""
        secret = "S3cr3t-add-do-not-store"
        result = cli(
            "runner", "add", "r1", "--host", "127.0.0.1", "--port", "1", "--var", f"{name}={secret}"
        )
        assert result.status == 3, result.err
        [line] = result.err.splitlines()
        assert name in line and ("_env" in line or "leave it out" in line)
        listed = cli("runner", "list", "--json")
        assert [r["name"] for r in listed.json()["runners"]] == ["local"]
        assert_nowhere([secret], home, result.out, result.err, listed.out)

    def test_vault_value_is_refused(self, cli, home: Path) -> None:
        """A vault-encrypted value is a secret whatever its name."""
        result = cli(
            "runner",
            "add",
            "r1",
            "--host",
            "127.0.0.1",
            "--port",
            "1",
            "--var",
            f"lab_notes={VAULTED}",
        )
        assert result.status == 3 and "lab_notes" in result.err
        assert_nowhere(["6231336539666234306139346433"], home, result.out, result.err)

    def test_bad_reference_is_refused(self, cli) -> None:
        """A reference must name an environment variable."""
        result = cli(
            "runner",
            "add",
            "r1",
            "--host",
            "127.0.0.1",
            "--port",
            "1",
            "--var",
            "perflab_become_password_env=not a name",
        )
        assert result.status == 3
        assert "perflab_become_password_env" in result.err and "environment variable" in result.err

    def test_a_malformed_secret_var_is_not_echoed(self, cli, home: Path) -> None:
        """A typo (`:` for `=`) in a secret --var is refused without showing the value."""
        secret = "S3cr3t-typo-do-not-print"
        result = cli(
            "runner",
            "add",
            "r1",
            "--host",
            "127.0.0.1",
            "--port",
            "1",
            "--var",
            f"ansible_become_pass:{secret}",
        )
        assert result.status == 3 and "KEY=VALUE" in result.err
        assert_nowhere([secret], home, result.out, result.err)

    def test_vars_are_checked_like_an_inventorys(self, cli) -> None:
        """`--var` goes through the inventory's checks: a typo in a perflab name is caught
        before connecting."""
        result = cli(
            "runner",
            "add",
            "r1",
            "--host",
            "127.0.0.1",
            "--port",
            "1",
            "--var",
            "perflab_isolated_cpu=2-3",
        )
        assert result.status == 3 and "did you mean 'perflab_isolated_cpus'" in result.err


class TestImport:
    def test_secrets_are_dropped_with_a_note_naming_variable_and_file(
        self, cli, home: Path, lab: Path
    ) -> None:
        """The import goes on; each secret is named once, with the file it is written in;
        look-alikes (become_exe, sshpass_prompt ...) and references are kept."""
        result = cli("runner", "import", str(lab))
        assert result.status == 0, result.err
        notes = result.err.splitlines()
        expected = {
            "ansible_become_password": "hosts.yml:3:",
            "ansible_ssh_password": "hosts.yml:9:",
            "ansible_sudo_password": "group_vars/lab.yml:1:",
            "db.password": "group_vars/lab.yml:2:",
            "ansible_ssh_private_key_passphrase": "host_vars/h2.yml:2:",
            "ansible_private_key_passphrase": "host_vars/h2.yml:3:",
        }
        assert len(notes) == len(expected), notes
        for name, where in expected.items():
            [line] = [n for n in notes if re.search(rf"\b{re.escape(name)}\b", n)]
            assert where in line and "not stored" in line
        h1 = cli("runner", "show", "h1", "--json").json()["vars"]
        assert h1["ansible_become_exe"] == "/usr/bin/sudo"
        assert h1["ansible_sshpass_prompt"] == "Password:"
        assert h1["ansible_ssh_password_mechanism"] == "sshpass"
        assert cli("runner", "show", "h2", "--json").json()["vars"]["db"] == {"host": "db.lab"}

    def test_references_are_kept(self, cli, tmp_path: Path) -> None:
        """perflab's references to environment variables are imported like any variable."""
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            "all:\n  hosts:\n    h5:\n"
            "      perflab_become_password_env: LAB_SUDO\n"
            "      perflab_ssh_password_env: LAB_SSH\n"
            "      perflab_ssh_key_passphrase_env: LAB_KEY\n"
        )
        result = cli("runner", "import", str(inventory))
        assert result.status == 0 and result.err == "", result.err
        assert cli("runner", "show", "h5", "--json").json()["vars"] == {
            "perflab_become_password_env": "LAB_SUDO",
            "perflab_ssh_password_env": "LAB_SSH",
            "perflab_ssh_key_passphrase_env": "LAB_KEY",
        }

    def test_no_command_prints_or_stores_a_secret(self, cli, home: Path, lab: Path) -> None:
        """Scan every command's output and the database files for every secret value."""
        outputs = []
        for argv in (
            ["validate", str(lab)],
            ["runner", "import", str(lab)],
            ["runner", "import", str(lab), "--json"],
            ["runner", "list"],
            ["runner", "list", "--json"],
            ["runner", "show", "h1"],
            ["runner", "show", "h1", "--json"],
            ["runner", "show", "h2"],
            ["runner", "show", "h2", "--json"],
        ):
            result = cli(*argv)
            assert result.status == 0, (argv, result.err)
            outputs += [result.out, result.err]
        assert_nowhere(list(SECRETS.values()), home, *outputs)

    def test_json_lists_the_dropped_names(self, cli, lab: Path) -> None:
        """`runner import --json` says what was dropped (names and files, never values)."""
        doc = cli("runner", "import", str(lab), "--json").json()
        assert doc["added"] == ["h1", "h2"]
        assert any("ansible_sudo_password" in note and "lab.yml" in note for note in doc["notes"])

    def test_ini_inventory(self, cli, home: Path, tmp_path: Path) -> None:
        """INI host lines and [group:vars] go through the same filter."""
        inventory = tmp_path / "hosts.ini"
        inventory.write_text(
            f"h3 ansible_host=127.0.0.53 ansible_password="
            f"{SECRETS['ansible_password']}\n\n[all:vars]\n"
            f"ansible_su_pass={SECRETS['ansible_su_pass']}\n"
        )
        result = cli("runner", "import", str(inventory))
        assert result.status == 0, result.err
        assert "hosts.ini:1:" in result.err and "hosts.ini:4:" in result.err
        shown = cli("runner", "show", "h3", "--json")
        assert shown.json()["address"] == "127.0.0.53"
        assert_nowhere(
            [SECRETS["ansible_password"], SECRETS["ansible_su_pass"]],
            home,
            result.out,
            result.err,
            shown.out,
        )

    def test_vault_values_are_dropped_not_refused(self, cli, home: Path, tmp_path: Path) -> None:
        """A `!vault` value no longer stops the import: it is dropped with a note."""
        inventory = tmp_path / "hosts.yml"
        body = "".join(f"        {line}\n" for line in VAULTED.splitlines())
        inventory.write_text(
            "all:\n  hosts:\n    h4:\n      ansible_host: 127.0.0.54\n"
            f"      ansible_become_password: !vault |\n{body}"
        )
        result = cli("runner", "import", str(inventory))
        assert result.status == 0, result.err
        assert "ansible_become_password" in result.err and "vault" in result.err
        shown = cli("runner", "show", "h4", "--json")
        assert "ansible_become_password" not in shown.json()["vars"]
        assert_nowhere(["6231336539666234306139346433"], home, result.out, result.err, shown.out)


@pytest.mark.root
class TestReferencesOnRealHosts:
    def test_add_and_ping_with_a_password_from_the_environment(
        self, cli, fleet, home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`runner add --var perflab_ssh_password_env=NAME` logs in with $NAME's password
        (the key is refused) at add and at every later connection; nothing of it kept."""
        from tests.fleet.variants import SSH_PASSWORD, password_host

        host = password_host(fleet)
        monkeypatch.setenv("LAB_SSH_PASSWORD", SSH_PASSWORD)
        added = cli(
            "runner",
            "add",
            "pw",
            "--host",
            host.address,
            "--user",
            "root",
            "--key",
            str(fleet.wrong_key.path),
            "--accept-new-host-key",
            "--var",
            "perflab_ssh_password_env=LAB_SSH_PASSWORD",
        )
        assert added.status == 0, added.err
        pinged = cli("runner", "ping", "pw")
        assert pinged.status == 0, pinged.err
        shown = cli("runner", "show", "pw")
        assert "LAB_SSH_PASSWORD" in shown.out
        assert_nowhere([SSH_PASSWORD], home, added.out, added.err, pinged.out, shown.out)

    def test_add_with_an_encrypted_key(
        self, cli, fleet, home: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An encrypted key file opens with the passphrase `perflab_ssh_key_passphrase_env`
        names."""
        from tests.fleet.variants import PASSPHRASE, passphrase_host

        host, key_file = passphrase_host(fleet)
        monkeypatch.setenv("LAB_KEY_PASSPHRASE", PASSPHRASE)
        added = cli(
            "runner",
            "add",
            "pp",
            "--host",
            host.address,
            "--user",
            "root",
            "--key",
            str(key_file),
            "--accept-new-host-key",
            "--var",
            "perflab_ssh_key_passphrase_env=LAB_KEY_PASSPHRASE",
        )
        assert added.status == 0, added.err
        facts = cli("runner", "facts", "pp", "--json")
        assert facts.status == 0, facts.err
        assert_nowhere([PASSPHRASE], home, added.out, added.err, facts.out)
