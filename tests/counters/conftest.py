"""A real C program to count (built with the system's C compiler) and job files for it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NEED_ALL = os.environ.get("PERFLAB_REQUIRE_ALL") == "1"

LOOP_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  volatile unsigned long acc = 0;
  for (long i = 0; i < n; i++) acc += i * 2654435761u;
  printf("%lu\n", acc);
  return 0;
}
"""


def need(tool: str) -> None:
    if shutil.which(tool) is None and not NEED_ALL:
        pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="session")
def loop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``loop`` (argv[1] iterations of a multiply-add), built here."""
    need("cc")
    folder = tmp_path_factory.mktemp("counted")
    (folder / "loop.c").write_text(LOOP_C)
    subprocess.run(
        ["cc", "-O2", "-o", str(folder / "loop"), str(folder / "loop.c")], check=True, timeout=120
    )
    return folder


#: ``loop`` with its iterations scaled by SCALE percent: the same program doing 1% more work
SCALED_C = LOOP_C.replace(
    "long n = argc > 1 ? atol(argv[1]) : 1000000;",
    "long n = (argc > 1 ? atol(argv[1]) : 1000000) * SCALE / 100;",
)


@pytest.fixture(scope="session")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``old`` (100%), ``new`` (101% of the iterations) and ``same`` (a copy of old), built here."""
    need("cc")
    folder = tmp_path_factory.mktemp("ab-programs")
    (folder / "loop.c").write_text(SCALED_C)
    assert "SCALE" in SCALED_C
    for name, scale in (("old", 100), ("new", 101), ("same", 100)):
        subprocess.run(
            ["cc", "-O2", f"-DSCALE={scale}", "-o", str(folder / name), str(folder / "loop.c")],
            check=True,
            timeout=120,
        )
    return folder


def loop_job(
    folder: Path,
    *,
    name: str = "loop",
    iterations: int = 200_000,
    counters: str = "[instructions]",
    extra: str = "",
    command: str | None = None,
) -> str:
    """A job that runs ``loop`` (as an argument list unless ``command`` is given)."""
    command = command or f'[./loop, "{iterations}"]'
    return (
        f"name: {name}\nworkdir: {folder}\nbenchmarks:\n  - name: loop\n"
        f"    command: {command}\n    format: time\n"
        f"repetitions: {{warmup: 0, runs: 2}}\ncounters: {counters}\n{extra}"
    )
