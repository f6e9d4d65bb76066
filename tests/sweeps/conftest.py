"""Sweep tests use the CLI fixtures, the queue's lab (redis-server, workers) and the fleet."""

from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.jobqueue.conftest import lab, redis  # noqa: F401 (fixtures)
