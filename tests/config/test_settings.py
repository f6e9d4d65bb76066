"""Where each setting comes from: the environment beats the file, the file the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab import config
from perflab.errors import InputError
from tests.config.conftest import Lab

MiB = 1024 * 1024

FILE = """\
# the lab's settings
db_url: postgresql://lab@db/perflab
broker_url: redis://queue:6379/0
lock_wait: 30
lease_ttl: 20.5
visibility_timeout: 7200
file_max_bytes: 1000000
run_files_max_bytes: 9000000
ssh_config: /etc/perflab/ssh_config
state_dir: /srv/perflab/state
prefix: lab-a
"""


class TestDefaults:
    def test_no_file_no_environment(self, lab: Lab) -> None:
        """Every setting has its documented default, and says so."""
        s = config.settings()
        assert s.home.value == lab.home and s.home.source == "environment PERFLAB_HOME"
        assert s.db_url.value == f"sqlite:///{lab.home / 'perflab.db'}"
        assert s.broker_url.value == "redis://127.0.0.1:6379/0"
        assert s.lock_wait.value == 0
        assert s.lease_ttl.value == 60
        assert s.visibility_timeout.value == 3600
        assert s.file_max_bytes.value == 64 * MiB
        assert s.run_files_max_bytes.value == 512 * MiB
        assert s.ssh_config.value is None and s.state_dir.value is None
        assert s.prefix.value == "perflab"
        assert s.matrix_max.value == 64
        assert {name for name, item in s.items() if item.source == "default"} == {
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
        }

    def test_home_without_perflab_home(self, lab: Lab, tmp_path: Path) -> None:
        """Without PERFLAB_HOME the home is under XDG_DATA_HOME, else ~/.local/share."""
        lab.monkeypatch.delenv("PERFLAB_HOME")
        lab.env("XDG_DATA_HOME", str(tmp_path / "xdg"))
        home = config.settings().home
        assert (home.value, home.source) == (
            tmp_path / "xdg" / "perflab",
            "environment XDG_DATA_HOME",
        )
        lab.monkeypatch.delenv("XDG_DATA_HOME")
        lab.env("HOME", str(tmp_path / "user"))
        home = config.settings().home
        assert (home.value, home.source) == (tmp_path / "user/.local/share/perflab", "default")
        assert config.config_file() == tmp_path / "user/.local/share/perflab/config.yaml"


class TestFile:
    def test_file_beats_default(self, lab: Lab) -> None:
        """Each value written in $PERFLAB_HOME/config.yaml is used, with its line as source."""
        path = lab.write(FILE)
        s = config.settings()
        expected = {
            "db_url": "postgresql://lab@db/perflab",
            "broker_url": "redis://queue:6379/0",
            "lock_wait": 30,
            "lease_ttl": 20.5,
            "visibility_timeout": 7200,
            "file_max_bytes": 1_000_000,
            "run_files_max_bytes": 9_000_000,
            "ssh_config": Path("/etc/perflab/ssh_config"),
            "state_dir": "/srv/perflab/state",
            "prefix": "lab-a",
        }
        for line, (name, value) in enumerate(expected.items(), start=2):
            item = getattr(s, name)
            assert (item.value, item.source) == (value, f"{path}:{line}"), name

    def test_accessors_read_the_file(self, lab: Lab) -> None:
        """The functions callers already use give the file's values."""
        lab.write(FILE)
        assert config.db_url() == "postgresql://lab@db/perflab"
        assert config.broker_url() == "redis://queue:6379/0"
        assert config.home() == lab.home and config.runs_dir() == lab.home / "runs"

    def test_paths_start_with_a_tilde(self, lab: Lab, tmp_path: Path) -> None:
        """A path in the file may start with ~ (the user's home)."""
        lab.env("HOME", str(tmp_path / "user"))
        lab.write("ssh_config: ~/.ssh/lab_config\n")
        assert config.settings().ssh_config.value == tmp_path / "user/.ssh/lab_config"

    def test_empty_file(self, lab: Lab) -> None:
        """An empty file (or one with comments only) sets nothing."""
        lab.write("# nothing yet\n")
        assert all(
            item.source == "default" for name, item in config.settings().items() if name != "home"
        )

    def test_read_once_until_reset(self, lab: Lab) -> None:
        """The file is read once per process; reset() makes the next call read it again."""
        lab.write("prefix: first\n")
        assert config.settings().prefix.value == "first"
        lab.file.write_text("prefix: second\n")
        assert config.settings().prefix.value == "first"
        config.reset()
        assert config.settings().prefix.value == "second"


class TestHome:
    def test_config_file_is_perflab_s_own(self, lab: Lab) -> None:
        """A home holding perflab's files and its config.yaml is still tightened to 0700."""
        lab.write("prefix: p\n")
        (lab.home / "runs").mkdir()
        lab.home.chmod(0o755)
        assert config.ensure_home() == lab.home
        assert lab.home.stat().st_mode & 0o777 == 0o700

    def test_home_never_reads_the_file(self, lab: Lab) -> None:
        """The home (and so the crash log's folder) is known whatever the file holds."""
        lab.write("lock_wait: soon\n")
        assert config.home() == lab.home and config.config_file() == lab.file


class TestEnvironment:
    def test_environment_beats_file(self, lab: Lab) -> None:
        """A variable wins over the file and names itself as the source; the rest still
        come from the file."""
        path = lab.write(FILE)
        lab.env("PERFLAB_DB_URL", "postgresql://ci@db2/perflab")
        lab.env("PERFLAB_LOCK_WAIT", "5")
        lab.env("PERFLAB_FILE_MAX_BYTES", "4096")
        s = config.settings()
        assert (s.db_url.value, s.db_url.source) == (
            "postgresql://ci@db2/perflab",
            "environment PERFLAB_DB_URL",
        )
        assert (s.lock_wait.value, s.lock_wait.source) == (5, "environment PERFLAB_LOCK_WAIT")
        assert (s.file_max_bytes.value, s.file_max_bytes.source) == (
            4096,
            "environment PERFLAB_FILE_MAX_BYTES",
        )
        assert (s.broker_url.value, s.broker_url.source) == ("redis://queue:6379/0", f"{path}:3")
        assert config.db_url() == "postgresql://ci@db2/perflab"

    @pytest.mark.parametrize(
        ("variable", "name", "value"),
        [
            ("PERFLAB_BROKER_URL", "broker_url", "redis://:pw@r:6380/1"),
            ("PERFLAB_LEASE_TTL", "lease_ttl", 2.5),
            ("PERFLAB_VISIBILITY_TIMEOUT", "visibility_timeout", 10),
            ("PERFLAB_RUN_FILES_MAX_BYTES", "run_files_max_bytes", 123),
            ("PERFLAB_SSH_CONFIG", "ssh_config", Path("/x/ssh_config")),
            ("PERFLAB_STATE_DIR", "state_dir", "/x/state"),
            ("PERFLAB_PREFIX", "prefix", "perflab-ci"),
        ],
    )
    def test_each_variable(self, lab: Lab, variable: str, name: str, value: object) -> None:
        """Every setting has its variable."""
        lab.write(FILE)
        lab.env(variable, str(value))
        item = getattr(config.settings(), name)
        assert (item.value, item.source) == (value, f"environment {variable}")

    def test_empty_variable_is_unset(self, lab: Lab) -> None:
        """An empty variable is as if it were not set: the file's value holds."""
        path = lab.write(FILE)
        lab.env("PERFLAB_DB_URL", "")
        lab.env("PERFLAB_LOCK_WAIT", " ")
        s = config.settings()
        assert s.db_url.source == f"{path}:2" and s.lock_wait.source == f"{path}:4"

    @pytest.mark.parametrize(
        ("variable", "text", "message"),
        [
            (
                "PERFLAB_LOCK_WAIT",
                "soon",
                'PERFLAB_LOCK_WAIT: expected a number of seconds >= 0, got "soon"',
            ),
            (
                "PERFLAB_LOCK_WAIT",
                "-1",
                'PERFLAB_LOCK_WAIT: expected a number of seconds >= 0, got "-1"',
            ),
            (
                "PERFLAB_LOCK_WAIT",
                "inf",
                'PERFLAB_LOCK_WAIT: expected a number of seconds >= 0, got "inf"',
            ),
            (
                "PERFLAB_LEASE_TTL",
                "0",
                'PERFLAB_LEASE_TTL: expected a number of seconds > 0, got "0"',
            ),
            (
                "PERFLAB_FILE_MAX_BYTES",
                "1.5",
                'PERFLAB_FILE_MAX_BYTES: expected a whole number of bytes > 0, got "1.5"',
            ),
            (
                "PERFLAB_BROKER_URL",
                "queue:6379",
                "PERFLAB_BROKER_URL: expected a URL like "
                'redis://host:6379/0, got text with no "scheme://"',
            ),
        ],
    )
    def test_bad_variable(self, lab: Lab, variable: str, text: str, message: str) -> None:
        """A variable that is not what its setting takes is exit 3, naming the variable."""
        lab.env(variable, text)
        with pytest.raises(InputError) as caught:
            config.settings()
        assert str(caught.value) == message
        assert caught.value.exit_status == 3
