"""`perflab config show` and `perflab config path`."""

from __future__ import annotations

import re

from tests.config.conftest import Lab

NAMES = [
    "home",
    "db_url",
    "broker_url",
    "lock_wait",
    "lease_ttl",
    "visibility_timeout",
    "file_max_bytes",
    "run_files_max_bytes",
    "ssh_config",
    "state_dir",
    "prefix",
    "matrix_max",
]


def rows(out: str) -> dict[str, tuple[str, str]]:
    """The table's rows under its header: setting -> (value, source)."""
    lines = out.splitlines()
    assert lines[1] == "" and re.split(r"\s{2,}", lines[2]) == ["setting", "value", "source"]
    found = {}
    for line in lines[3:]:
        name, value, source = re.split(r"\s{2,}", line.strip(), maxsplit=2)
        found[name] = (value, source)
    return found


class TestShow:
    def test_every_setting_with_its_source(self, lab: Lab) -> None:
        """One row per setting: the effective value and where it came from."""
        path = lab.write("lock_wait: 30\nprefix: lab-a\n")
        lab.env("PERFLAB_BROKER_URL", "redis://queue:6379/0")
        shown = lab.cli("config", "show")
        assert shown.status == 0, shown.err
        assert shown.out.splitlines()[0] == f"config file: {path}"
        table = rows(shown.out)
        assert list(table) == NAMES
        assert table["home"] == (str(lab.home), "environment PERFLAB_HOME")
        assert table["broker_url"] == ("redis://queue:6379/0", "environment PERFLAB_BROKER_URL")
        assert table["lock_wait"] == ("30", f"{path}:1")
        assert table["prefix"] == ("lab-a", f"{path}:2")
        assert table["lease_ttl"] == ("60", "default")
        assert table["file_max_bytes"] == ("67108864", "default")
        assert table["ssh_config"] == ("(not set)", "default")

    def test_json(self, lab: Lab) -> None:
        """--json: one document with the file and, per setting, value, source, variable."""
        path = lab.write("visibility_timeout: 7200\n")
        doc = lab.cli("config", "show", "--json")
        assert doc.status == 0, doc.err
        data = __import__("json").loads(doc.out)
        assert data["file"] == {"path": str(path), "exists": True}
        assert list(data["settings"]) == NAMES
        assert data["settings"]["visibility_timeout"] == {
            "value": 7200,
            "source": f"{path}:1",
            "variable": "PERFLAB_VISIBILITY_TIMEOUT",
        }
        assert data["settings"]["state_dir"] == {
            "value": None,
            "source": "default",
            "variable": "PERFLAB_STATE_DIR",
        }
        assert data["settings"]["run_files_max_bytes"]["value"] == 512 * 1024 * 1024

    def test_no_file(self, lab: Lab) -> None:
        """Without a file, show says so and touches nothing (not even the home)."""
        lab.env("PERFLAB_HOME", str(lab.home / "new"))
        shown = lab.cli("config", "show")
        assert shown.status == 0, shown.err
        assert shown.out.splitlines()[0] == (
            f"config file: {lab.home / 'new' / 'config.yaml'} (not found: the environment "
            "and the defaults only)"
        )
        assert not (lab.home / "new").exists()

    def test_bad_file_is_exit_3(self, lab: Lab) -> None:
        """A bad file is one line per problem with its place, and exit 3."""
        path = lab.write("lock_wait: soon\n")
        shown = lab.cli("config", "show")
        assert shown.status == 3
        assert shown.err == (
            f"perflab: error: {path}:1:12: lock_wait: expected a number of "
            'seconds >= 0, got "soon"\n'
        )


class TestPasswords:
    FILE = "db_url: postgresql://lab:hunter2-db@db/perflab?sslpassword=ssl-secret\n"
    SECRETS = ("hunter2-db", "ssl-secret", "s3cr3t-broker")

    def test_never_shown(self, lab: Lab) -> None:
        """Passwords in URLs (user info or query) appear neither in the table nor in JSON."""
        lab.write(self.FILE)
        lab.env("PERFLAB_BROKER_URL", "redis://:s3cr3t-broker@queue:6379/0")
        for argv in (("config", "show"), ("config", "show", "--json")):
            shown = lab.cli(*argv)
            assert shown.status == 0, shown.err
            for secret in self.SECRETS:
                assert secret not in shown.out + shown.err, (argv, secret)
            assert "postgresql://lab:***@db/perflab?sslpassword=***" in shown.out
            assert "redis://:***@queue:6379/0" in shown.out


class TestPath:
    def test_path(self, lab: Lab) -> None:
        """Where the file is looked for, whether it exists or not, and even when it is
        bad (path does not read it)."""
        shown = lab.cli("config", "path")
        assert (shown.status, shown.out) == (0, f"{lab.file}\n")
        lab.write("lock_wait: soon\n")
        doc = lab.cli("config", "path", "--json")
        assert doc.status == 0 and __import__("json").loads(doc.out) == {
            "path": str(lab.file),
            "exists": True,
        }
