"""Run the CLI in-process with captured streams and a private PERFLAB_HOME."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from perflab.cli.env import Env
from perflab.cli.main import run_cli


@dataclass
class Result:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("PERFLAB_HOME", str(folder))
    monkeypatch.delenv("PERFLAB_DB_URL", raising=False)
    return folder


@pytest.fixture
def cli(home: Path):
    def call(*argv: str) -> Result:
        env = Env(stdout=io.StringIO(), stderr=io.StringIO())
        status = run_cli(list(argv), env)
        return Result(status, env.stdout.getvalue(), env.stderr.getvalue())  # type: ignore[attr-defined]

    return call


@pytest.fixture
def write_job(tmp_path: Path):
    def write(text: str, name: str = "job.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
