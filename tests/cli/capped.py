"""Run the perflab CLI in a child whose memory is capped, and measure what it used.

Hostile inputs (alias bombs, /dev/zero, huge files) are tried in a child process, never
in the test process: a regression then fails one test instead of taking the machine down.
The child's address space is capped (RLIMIT_AS); its wall time and peak RSS come from
wait4 on that very child.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

#: the child may not map more than this; a bounded input needs far less
ADDRESS_SPACE = 1536 * 1024 * 1024


@dataclass
class Child:
    status: int
    out: str
    err: str
    seconds: float
    maxrss_mb: float


#: ``python -m perflab`` with the cap set first (no preexec_fn: unsafe with threads)
_CAPPED = (
    "import resource, runpy, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE})); "
    "sys.argv[0] = 'perflab'; runpy.run_module('perflab', run_name='__main__')"
)


def run_capped(*argv: str, home: Path, timeout: float, env: dict[str, str] | None = None) -> Child:
    """``python -m perflab ARGV``; the test fails if it is still running after ``timeout``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child_env = {k: v for k, v in os.environ.items() if k != "PERFLAB_DB_URL"}
        child_env.update({"PERFLAB_HOME": str(home), **(env or {})})
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", _CAPPED, *argv],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=child_env,
        )
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                pytest.fail(f"perflab {' '.join(argv)} still ran after {timeout} s")
            time.sleep(0.01)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            usage.ru_maxrss / 1024,
        )
