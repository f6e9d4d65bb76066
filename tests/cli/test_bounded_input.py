"""Hostile and unlucky files: refused with exit 3 and one line, quickly, in little memory.

Each case runs the real CLI in a child whose address space is capped (tests/cli/capped.py),
so a regression fails here instead of exhausting the machine. The bounds are the issue's:
within 5 s (these refusals take well under a second here) and well under 1 GB.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.cli.capped import Child, run_capped

MAX_SECONDS = 5.0
MAX_RSS_MB = 300.0
JOB_HEAD = 'name: t\nbenchmarks: [{name: a, command: ["true"], format: time}]\n'


def alias_bomb(levels: int = 10, width: int = 9) -> str:
    """The "billion laughs": each level lists the previous one ``width`` times."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def refused(child: Child, where: str) -> str:
    """The one error line, after checking status, time, memory and that it names ``where``."""
    assert child.status == 3, (child.status, child.err[-2000:])
    assert child.seconds < MAX_SECONDS
    assert child.maxrss_mb < MAX_RSS_MB, child.maxrss_mb
    lines = child.err.strip().splitlines()
    assert len(lines) == 1, child.err
    assert where in lines[0], lines[0]
    assert "This is a bug" not in child.err
    return lines[0]


@pytest.fixture
def child_home(tmp_path: Path) -> Path:
    return tmp_path / "home"


class TestHostileYaml:
    def test_alias_bomb_in_a_job(self, tmp_path: Path, child_home: Path) -> None:
        """An alias bomb is refused at the alias that expands it too far, with its field."""
        path = tmp_path / "job.yaml"
        path.write_text(
            JOB_HEAD + "x:\n" + "".join("  " + line + "\n" for line in alias_bomb().splitlines())
        )
        line = refused(
            run_capped("validate", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}:"
        )
        assert re.search(r"job\.yaml:\d+:\d+: x\.a\d+\[\d+\]: ", line), line
        assert "alias" in line and "100000" in line

    def test_merge_key_bomb(self, tmp_path: Path, child_home: Path) -> None:
        """Merge keys (``<<: [*a, *a]``) expand like aliases and are counted the same way."""
        lines = ["a0: &a0 {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8}"]
        for i in range(1, 12):
            lines.append(
                f"a{i}: &a{i} {{x{i}: [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}], <<: *a{i - 1}}}"
            )
        path = tmp_path / "job.yaml"
        path.write_text(JOB_HEAD + "\n".join(lines) + "\n")
        refused(run_capped("validate", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}:")

    def test_alias_bomb_in_group_vars(self, tmp_path: Path, child_home: Path) -> None:
        """Inventories are bounded too: a bomb in group_vars/ is refused naming that file."""
        inventory = tmp_path / "lab"
        (inventory / "group_vars").mkdir(parents=True)
        (inventory / "hosts.yml").write_text("all:\n  hosts:\n    r1: {ansible_host: 127.0.0.1}\n")
        bomb = inventory / "group_vars" / "all.yml"
        bomb.write_text(alias_bomb())
        refused(
            run_capped("validate", str(inventory), home=child_home, timeout=MAX_SECONDS), f"{bomb}:"
        )

    def test_recursive_alias(self, tmp_path: Path, child_home: Path) -> None:
        """An alias inside its own anchor (a recursive structure) is refused, not walked."""
        path = tmp_path / "job.yaml"
        path.write_text(JOB_HEAD + "x: &a [1, *a]\n")
        line = refused(
            run_capped("validate", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}:3:"
        )
        assert "x[1]" in line

    def test_nul_character(self, tmp_path: Path, child_home: Path) -> None:
        """A NUL character: exit 3 with its line and column, not "this is a bug"."""
        path = tmp_path / "job.yaml"
        path.write_text(JOB_HEAD + "description: a\x00b\n")
        line = refused(
            run_capped("validate", str(path), home=child_home, timeout=MAX_SECONDS),
            f"{path}:3:15: ",
        )
        assert "NUL" in line

    @pytest.mark.parametrize("opener", ["[", "{a: "])
    def test_nesting_3000_deep(self, tmp_path: Path, child_home: Path, opener: str) -> None:
        """3,000 nested lists or mappings: refused at the level that is too deep."""
        closer = "]" if opener == "[" else "}"
        path = tmp_path / "job.yaml"
        path.write_text(JOB_HEAD + "x: " + opener * 3000 + "1" + closer * 3000 + "\n")
        line = refused(
            run_capped("validate", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}:3:"
        )
        assert "100 levels" in line

    def test_job_file_over_the_size_limit(self, tmp_path: Path, child_home: Path) -> None:
        """A 50 MB job file is refused before it is read."""
        path = tmp_path / "job.yaml"
        with path.open("w") as handle:
            handle.write(JOB_HEAD + "tags:\n")
            handle.writelines(f"  - tag{i}\n" for i in range(5_000_000))
        line = refused(
            run_capped("validate", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}: "
        )
        assert "at most 1 MiB" in line

    def test_dev_zero(self, child_home: Path) -> None:
        """/dev/zero is not a file perflab reads: refused at once."""
        line = refused(
            run_capped("validate", "/dev/zero", home=child_home, timeout=MAX_SECONDS), "/dev/zero: "
        )
        assert "character device" in line

    def test_fifo(self, tmp_path: Path, child_home: Path) -> None:
        """A named pipe nobody writes to is refused, not waited on."""
        path = tmp_path / "job.yaml"
        os.mkfifo(path)
        line = refused(
            run_capped("validate", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}: "
        )
        assert "FIFO" in line


class TestHostileResultFiles:
    @pytest.mark.parametrize("command", ["parse", "compare"])
    def test_dev_zero(self, child_home: Path, command: str) -> None:
        """parse and compare refuse /dev/zero."""
        argv = (
            ("parse", "/dev/zero") if command == "parse" else ("compare", "/dev/zero", "/dev/zero")
        )
        refused(run_capped(*argv, home=child_home, timeout=MAX_SECONDS), "/dev/zero: ")

    def test_fifo(self, tmp_path: Path, child_home: Path) -> None:
        """A named pipe given to parse is refused, not waited on."""
        path = tmp_path / "out.json"
        os.mkfifo(path)
        refused(run_capped("parse", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}")

    def test_over_the_size_limit(self, tmp_path: Path, child_home: Path) -> None:
        """A result file over 16 MiB is refused before it is read."""
        path = tmp_path / "out.json"
        with path.open("wb") as handle:
            handle.truncate(17 * 1024 * 1024)  # sparse: no disk used
        line = refused(
            run_capped("parse", str(path), home=child_home, timeout=MAX_SECONDS), f"{path}"
        )
        assert "at most 16 MiB" in line


class TestCountOptions:
    @pytest.mark.parametrize("argv", [("results", "list"), ("history", "job", "bench")])
    def test_limit_is_bounded(self, cli, argv: tuple[str, ...]) -> None:
        """--limit 10^20 is a usage error (it was an OverflowError in the database driver)."""
        result = cli(*argv, "--limit", "100000000000000000000")
        assert result.status == 3 and "1<=x<=1000000" in result.err, result.err
