"""A database URL whose driver is not installed: the install command, not an ImportError.

The driver is made missing in a subprocess (an import hook that refuses it, as an
environment without it would), never by uninstalling anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WITHOUT = """\
import sys

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Missing())
from perflab.cli.main import main
sys.argv = ["perflab", *sys.argv[1:]]
main()
"""


def perflab_without(
    modules: set[str], url: str, home: Path, *argv: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PERFLAB_HOME": str(home), "PERFLAB_DB_URL": url}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT.format(blocked=modules), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


class TestMissingDriver:
    @pytest.mark.parametrize(
        "url", ["postgresql://u@127.0.0.1:1/none", "postgresql+psycopg://u@127.0.0.1:1/none"]
    )
    def test_postgres_without_psycopg(self, tmp_path: Path, url: str) -> None:
        """PERFLAB_DB_URL=postgresql://... without psycopg: exit 3 and the extra to install."""
        done = perflab_without({"psycopg", "psycopg2"}, url, tmp_path, "results", "list")
        assert done.returncode == 3, done.stderr
        assert "pip install 'perflab[postgres]'" in done.stderr
        assert "No module named" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr

    def test_psycopg2_url(self, tmp_path: Path) -> None:
        """A psycopg2 URL names its own package, and the driver perflab ships an extra for."""
        done = perflab_without(
            {"psycopg2"}, "postgresql+psycopg2://u@127.0.0.1:1/none", tmp_path, "results", "list"
        )
        assert done.returncode == 3
        assert "pip install psycopg2-binary" in done.stderr
        assert "postgresql+psycopg://" in done.stderr

    def test_mysql_url(self, tmp_path: Path) -> None:
        """Other well-known drivers name the package that provides them, in one line."""
        done = perflab_without(
            {"MySQLdb"}, "mysql://u@127.0.0.1:1/none", tmp_path, "results", "list"
        )
        assert done.returncode == 3
        assert "pip install mysqlclient" in done.stderr
        assert "No module named" not in done.stderr
