"""Fixtures: the real-cgroup ones of tests/prepare, and the in-process CLI of tests/cli."""

from __future__ import annotations

from tests.cli.conftest import cli, home, write_job  # noqa: F401
from tests.prepare.conftest import local_host, neighbours, prefix  # noqa: F401
