"""Ansible itself as the oracle: ``ansible-inventory --list`` and ``ansible --list-hosts``.

Ansible runs with an empty configuration file of our own (so no ansible.cfg
of the machine or the user changes its defaults) and with unparsable
inventories made fatal (by default it only warns and prints an empty one).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest


def _find(tool: str) -> str | None:
    """The tool installed beside this interpreter (a venv run without activating it),
    else the one on PATH."""
    beside = Path(sys.executable).parent / tool
    return str(beside) if beside.is_file() else shutil.which(tool)


ANSIBLE_INVENTORY = _find("ansible-inventory")
ANSIBLE = _find("ansible")

# CI (PERFLAB_REQUIRE_ALL=1) installs ansible-core with the test extra: missing is a failure
needs_ansible = pytest.mark.skipif(
    (ANSIBLE_INVENTORY is None or ANSIBLE is None) and os.environ.get("PERFLAB_REQUIRE_ALL") != "1",
    reason="ansible-core (ansible-inventory, ansible) is not installed; it is a test "
    "dependency: pip install 'perflab[test]'",
)


@functools.cache
def _home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="perflab-ansible-oracle-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    (home / "ansible.cfg").write_text("[defaults]\n")
    return home


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    home = _home()
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(home / "ansible.cfg"),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_NOCOLOR": "1",
    }
    return subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=home, timeout=120, check=False
    )


@functools.cache
def _list_run(path: Path) -> subprocess.CompletedProcess[str]:
    return _run(str(ANSIBLE_INVENTORY), "-i", str(path.resolve()), "--list")


def ansible_list(path: Path) -> dict[str, Any]:
    """What ``ansible-inventory -i PATH --list`` prints, parsed."""
    done = _list_run(path)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def ansible_refuses(path: Path) -> str | None:
    """Ansible's complaint about an inventory, or None if it reads it."""
    done = _list_run(path)
    return done.stderr if done.returncode != 0 else None


def ansible_warnings(path: Path) -> str:
    """What Ansible prints on stderr while reading an inventory."""
    return _list_run(path).stderr


def prefetch(paths: list[Path]) -> None:
    """Ask Ansible about several inventories at once (each run starts a slow interpreter)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(_list_run, paths))
        list(pool.map(ansible_host_order, paths))


@functools.cache
def ansible_host_order(path: Path) -> list[str]:
    """The hosts of ``all`` in the order ``ansible all --list-hosts`` prints them."""
    done = _run(str(ANSIBLE), "all", "-i", str(path.resolve()), "--list-hosts")
    assert done.returncode == 0, done.stderr
    return [line.strip() for line in done.stdout.splitlines()[1:] if line.strip()]
