"""Runner tests use the CLI fixtures and the SSH fleet."""

from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
