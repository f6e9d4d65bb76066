"""The settings reach the code that uses them: the local runner's state dir, name prefix
and lock wait."""

from __future__ import annotations

import pytest

from perflab.errors import InputError
from perflab.prepare.host import RunnerHost
from perflab.prepare.lock import default_wait
from perflab.transport.local import LocalTransport
from tests.config.conftest import Lab


class TestLocalRunner:
    def test_state_dir_and_prefix_from_the_file(self, lab: Lab) -> None:
        """The file's state_dir and prefix are the local runner's."""
        lab.write("state_dir: /srv/lab/state/\nprefix: lab-a\n")
        host = RunnerHost("local", LocalTransport(), {})
        assert host.state_dir == "/srv/lab/state" and host.state_dir_configured
        assert host.prefix == "lab-a"

    def test_runner_variables_win(self, lab: Lab) -> None:
        """A runner's own perflab_state_dir and perflab_name_prefix beat the settings."""
        lab.write("state_dir: /srv/lab/state\nprefix: lab-a\n")
        host = RunnerHost(
            "local", LocalTransport(), {"perflab_state_dir": "/x", "perflab_name_prefix": "mine"}
        )
        assert (host.state_dir, host.prefix) == ("/x", "mine")

    def test_defaults(self, lab: Lab) -> None:
        host = RunnerHost("local", LocalTransport(), {})
        assert (host.state_dir, host.state_dir_configured) == ("/var/lib/perflab", False)
        assert host.prefix == "perflab"


class TestLockWait:
    def test_from_the_file(self, lab: Lab) -> None:
        lab.write("lock_wait: 30\n")
        assert default_wait() == 30

    def test_bad_variable_keeps_its_error(self, lab: Lab) -> None:
        """A bad PERFLAB_LOCK_WAIT is still exit 3 naming the variable."""
        lab.env("PERFLAB_LOCK_WAIT", "soon")
        with pytest.raises(InputError) as caught:
            default_wait()
        assert caught.value.field == "PERFLAB_LOCK_WAIT" and caught.value.exit_status == 3


class TestStore:
    def test_unopenable_url_from_the_file_names_the_file(self, lab: Lab) -> None:
        """A db_url from config.yaml that cannot be opened points at the file's line, not at
        a PERFLAB_DB_URL nobody set; the password stays masked."""
        path = lab.write("prefix: p\ndb_url: postgresql+psycopg://lab:hunter2@127.0.0.1:1/x\n")
        shown = lab.cli("results", "list")
        assert shown.status == 3
        assert shown.err.startswith(
            f"perflab: error: db_url ({path}:2): cannot open database "
            "'postgresql+psycopg://lab:***@127.0.0.1:1/x'"
        )
        assert "hunter2" not in shown.err

    def test_unopenable_url_from_the_environment_names_the_variable(self, lab: Lab) -> None:
        lab.env("PERFLAB_DB_URL", "postgresql+psycopg://lab@127.0.0.1:1/x")
        shown = lab.cli("results", "list")
        assert shown.status == 3 and shown.err.startswith("perflab: error: PERFLAB_DB_URL: ")
