"""Counters a runner cannot count are refused before anything runs: one line, exit 3."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from perflab.facts.counting import counting_commands, parse_counting
from perflab.transport.local import LocalTransport
from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.counters.conftest import loop_job, need


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def _no_runs(call) -> None:  # type: ignore[no-untyped-def]
    listed = call("results", "list", "--json")
    assert listed.status == 0, listed.err
    assert listed.json() == [] or listed.json().get("runs") == [], listed.out


class TestRefused:
    def test_bogus_counter(self, cli, write_job, loop_dir: Path) -> None:
        """`counters: [bogus]` is a schema error naming the file, line, field and choices."""
        path = write_job(loop_job(loop_dir, counters="[bogus]"))
        for command in (("validate", str(path)), ("run", str(path))):
            result = cli(*command)
            assert result.status == 3, result.err
            line = _one_line(result.err)
            assert f"{path}:8:" in line and "counters[0]" in line and '"bogus"' in line
            assert "instructions" in line and "hw" in line
        _no_runs(cli)

    def test_a_format_whose_iterations_are_unknown(
        self,
        cli,
        write_job,
        loop_dir: Path,
    ) -> None:
        """Criterion never reports its warm-up iterations: counting it is refused at load."""
        path = write_job(loop_job(loop_dir).replace("format: time", "format: criterion"))
        result = cli("validate", str(path))
        assert result.status == 3
        line = _one_line(result.err)
        assert f"{path}:8:" in line and 'got format "criterion"' in line
        assert "warm-up iterations" in line

    def test_runner_without_valgrind(
        self,
        cli,
        write_job,
        loop_dir: Path,
        tmp_path: Path,
    ) -> None:
        """The job's PATH has no valgrind: refused naming the package, nothing stored."""
        need("valgrind")
        empty = tmp_path / "bin-without-valgrind"
        empty.mkdir()
        path = write_job(loop_job(loop_dir, extra=f"env: {{PATH: {empty}}}\n"))
        result = cli("run", str(path))
        assert result.status == 3, result.err
        line = _one_line(result.err)
        assert f"{path}:8:" in line and "counters" in line
        assert "valgrind is not installed" in line and "install the valgrind package" in line
        _no_runs(cli)

    def test_hw_where_perf_cannot_count(self, cli, write_job, loop_dir: Path) -> None:
        """`hw` on a host whose perf stat answers <not supported> (this VM) is refused."""
        need("perf")
        facts = parse_counting(
            LocalTransport().call_hostside("probe", {"commands": counting_commands()})["commands"]
        )
        if facts["perf"]["events"]["instructions"]:
            pytest.skip("perf stat counts instructions on this host")
        path = write_job(loop_job(loop_dir, counters="[hw]"))
        result = cli("run", str(path))
        assert result.status == 3, result.err
        line = _one_line(result.err)
        assert '"hw"' in line and "perf stat cannot count instructions" in line
        _no_runs(cli)


class TestFacts:
    def test_probe_reads_valgrind_and_perf(self) -> None:
        """The counting facts name valgrind's version as `valgrind --version` prints it."""
        need("valgrind")
        answer = LocalTransport().call_hostside("probe", {"commands": counting_commands()})
        facts = parse_counting(answer["commands"])
        import subprocess

        version = subprocess.run(
            ["valgrind", "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert version == f"valgrind-{facts['valgrind']}"
        assert facts["perf"]["found"] == (shutil.which("perf") is not None)

    def test_a_path_without_tools(self, tmp_path: Path) -> None:
        """Found through the job's PATH: an empty folder holds neither tool."""
        answer = LocalTransport().call_hostside(
            "probe", {"commands": counting_commands(str(tmp_path))}
        )
        facts = parse_counting(answer["commands"])
        assert facts == {
            "valgrind": None,
            "perf": {
                "found": False,
                "events": {
                    "cycles": False,
                    "instructions": False,
                    "branch-misses": False,
                    "cache-misses": False,
                },
            },
        }
