"""A private ``$PERFLAB_HOME`` with no settings in the environment, and its config file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from perflab import config
from perflab.cli.env import Env
from perflab.cli.main import run_cli

#: every variable a setting is read from (PERFLAB_HOME aside: the fixture sets it)
SETTING_VARIABLES = (
    "PERFLAB_DB_URL",
    "PERFLAB_BROKER_URL",
    "PERFLAB_LOCK_WAIT",
    "PERFLAB_LEASE_TTL",
    "PERFLAB_VISIBILITY_TIMEOUT",
    "PERFLAB_FILE_MAX_BYTES",
    "PERFLAB_RUN_FILES_MAX_BYTES",
    "PERFLAB_SSH_CONFIG",
    "PERFLAB_STATE_DIR",
    "PERFLAB_PREFIX",
)


@dataclass
class Shown:
    status: int
    out: str
    err: str


@dataclass
class Lab:
    """This test's home; ``write`` puts a config file there (and forgets the cached one)."""

    home: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def file(self) -> Path:
        return self.home / "config.yaml"

    def write(self, text: str) -> Path:
        self.file.write_text(text)
        config.reset()
        return self.file

    def env(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)

    def cli(self, *argv: str) -> Shown:
        env = Env(stdout=io.StringIO(), stderr=io.StringIO())
        status = run_cli(list(argv), env)
        return Shown(status, env.stdout.getvalue(), env.stderr.getvalue())  # type: ignore[attr-defined]


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PERFLAB_HOME", str(home))
    for name in SETTING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config.reset()
    yield Lab(home, monkeypatch)
    config.reset()
