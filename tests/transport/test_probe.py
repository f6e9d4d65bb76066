"""The host-side probe: its glob, what it imports, and how call_hostside starts it."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perflab.hostside import probe, source
from perflab.transport.local import LocalTransport

PATTERNS = [
    "{r}/cpu*/topology/core_id",
    "{r}/cpu?/online",
    "{r}/cpu[02]/online",
    "{r}/*",
    "{r}/.*",
    "{r}/*/",
    "{r}/cpu*/",
    "{r}/link*/core_id",
    "{r}/dangling",
    "{r}/dangl[i]ng",
    "{r}/cpu0/onlin[e]",
    "{r}/cpu0/online/*",
    "{r}/file/*",
    "{r}/missing/*",
    "{r}/missing*",
    "{r}/cpu*/*/*",
    "{r}/.hidden/*",
    "{r}/*/.dot",
    "{r}/cpu0",
    "{r}/cpu0/",
    "{r}/[c]pu0/",
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "sys"
    for cpu in range(3):
        (root / f"cpu{cpu}" / "topology").mkdir(parents=True)
        (root / f"cpu{cpu}" / "topology" / "core_id").write_text(str(cpu))
        (root / f"cpu{cpu}" / "online").write_text("1")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x").write_text("x")
    (root / "cpu0" / ".dot").write_text("")
    (root / "file").write_text("")
    (root / "link0").symlink_to(root / "cpu0" / "topology")
    (root / "dangling").symlink_to(root / "nowhere")
    return root


@pytest.mark.parametrize("pattern", PATTERNS)
def test_expand_finds_what_glob_finds(tree: Path, pattern: str) -> None:
    real = pattern.format(r=tree)
    assert sorted(probe.expand(real)) == sorted(glob.glob(real))  # noqa: PTH207 (the oracle)


def run_probe(request: dict, extra: str = "") -> tuple[dict, str]:
    code = source("probe") + extra
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout), done.stderr


SHOW_MODULES = (
    "\nprint(sorted(m for m in ('glob', 'subprocess') if m in sys.modules), file=sys.stderr)\n"
)


def test_imports_only_what_the_request_needs(tree: Path) -> None:
    """No glob ever, subprocess only for commands: start-up is most of a probe's cost."""
    answer, modules = run_probe({"files": [f"{tree}/cpu*/online"], "self": True}, SHOW_MODULES)
    assert modules.strip() == "[]"
    assert answer["self"]["machine"] == os.uname().machine
    assert answer["globs"][f"{tree}/cpu*/online"] == [f"{tree}/cpu{n}/online" for n in range(3)]
    answer, modules = run_probe({"commands": {"t": {"argv": ["true"]}}}, SHOW_MODULES)
    assert modules.strip() == "['subprocess']" and answer["commands"]["t"]["exit"] == 0


def test_call_hostside_ignores_the_hosts_python_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A json.py on PYTHONPATH or in the login directory does not replace the stdlib's."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "json.py").write_text("raise ImportError('shadowed')\n")
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    monkeypatch.chdir(shadow)
    answer = LocalTransport().call_hostside("probe", {"files": ["/proc/loadavg"], "self": True})
    assert answer["files"]["/proc/loadavg"] and answer["self"]["machine"]


def test_the_patterns_do_find_things(tree: Path) -> None:
    """The comparison above is not all empty lists: hidden, symlinked, directory-only cases."""
    assert probe.expand(f"{tree}/.*") == [f"{tree}/.hidden"]
    assert sorted(probe.expand(f"{tree}/*/")) == [f"{tree}/cpu{n}/" for n in range(3)] + [
        f"{tree}/link0/"
    ]
    assert probe.expand(f"{tree}/link*/core_id") == [f"{tree}/link0/core_id"]
    assert probe.expand(f"{tree}/dangl[i]ng") == [f"{tree}/dangling"]
