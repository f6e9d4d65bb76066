"""Job matrices: the Cartesian product, substitution, the bound, and validate's count."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.spec.job import load_job, parse_job
from perflab.spec.matrix import combinations, expand
from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)

MATRIX = """\
name: mx
matrix:
  compiler: [gcc, clang]
  opt: ["-O2", "-O3", 1]
env: {CC: "${{ matrix.compiler }}"}
benchmarks:
  - name: b
    command: [sh, -c, "echo ${{ matrix.compiler }} ${{matrix.opt}}"]
    format: time
"""


class TestExpansion:
    def test_cartesian_product_in_file_order(self) -> None:
        """Two axes of 2 and 3 values are 6 jobs, in the order written, values as text."""
        job = parse_job(MATRIX, "m.yaml")
        cells = combinations(job.raw)
        assert len(cells) == 6
        assert cells[0] == {"compiler": "gcc", "opt": "-O2"}
        assert cells[-1] == {"compiler": "clang", "opt": "1"}

    def test_values_substituted_and_exported(self) -> None:
        """Each job has its combination's values in its commands and env, PERFLAB_MATRIX_*
        set, and the values it was made from; the name stays the job's."""
        jobs = expand(parse_job(MATRIX, "m.yaml"))
        second = jobs[1]
        assert second.name == "mx"
        assert second.matrix == {"compiler": "gcc", "opt": "-O3"}
        assert second.benchmarks[0].command == ["sh", "-c", "echo gcc -O3"]
        assert second.env["CC"] == "gcc"
        assert second.env["PERFLAB_MATRIX_OPT"] == "-O3"
        assert len({j.sha256 for j in jobs}) == 6

    def test_no_matrix_is_the_job_itself(self) -> None:
        """A job without a matrix expands into itself, untagged."""
        job = parse_job(
            "name: j\nbenchmarks: [{name: b, command: ['true'], format: time}]\n", "j.yaml"
        )
        assert expand(job) == [job] and job.matrix == {}


class TestBadMatrix:
    def test_over_the_limit_names_file_and_line(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A matrix past matrix_max is refused at the matrix key, with the count and the
        setting to raise."""
        monkeypatch.setenv("PERFLAB_MATRIX_MAX", "5")
        path = tmp_path / "m.yaml"
        path.write_text(MATRIX)
        with pytest.raises(InputError) as caught:
            load_job(path)
        text = str(caught.value)
        assert f"{path}:3:3: matrix: expected a matrix of at most 5 jobs" in text
        assert "got 6 (compiler 2 x opt 3)" in text

    def test_unknown_axis_referenced(self) -> None:
        """${{ matrix.X }} naming no axis is refused where it is written."""
        with pytest.raises(InputError) as caught:
            parse_job(MATRIX.replace("matrix.opt", "matrix.level"), "m.yaml")
        assert "m.yaml:8:" in str(caught.value)
        assert 'expected a matrix axis (compiler, opt), got "level"' in str(caught.value)

    def test_empty_axis_is_a_schema_error(self) -> None:
        """An axis with no values is refused by the schema."""
        with pytest.raises(Exception) as caught:
            parse_job(MATRIX.replace("[gcc, clang]", "[]"), "m.yaml")
        assert "m.yaml:3:" in str(caught.value)


class TestCli:
    def test_validate_shows_the_count(self, cli, write_job) -> None:
        """`perflab validate` says how many jobs the matrix expands into."""
        done = cli("validate", str(write_job(MATRIX)))
        assert done.status == 0, done.err
        assert "a matrix of 6 jobs: compiler 2 x opt 3" in done.out

    def test_validate_over_limit_exit_3(
        self,
        cli,
        write_job,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Over the limit, validate exits 3 with one line naming file and line."""
        monkeypatch.setenv("PERFLAB_MATRIX_MAX", "4")
        path = write_job(MATRIX)
        done = cli("validate", str(path))
        assert done.status == 3
        assert f"{path}:3:3: matrix: expected a matrix of at most 4 jobs" in done.err

    def test_run_runs_every_combination(self, cli, write_job) -> None:
        """`perflab run` of a matrix job stores one run per combination, each tagged with its
        values; the benchmark sees them."""
        path = write_job(
            "name: mr\nmatrix: {word: [alpha, beta]}\nbenchmarks:\n"
            '  - {name: b, command: [sh, -c, \'test "$PERFLAB_MATRIX_WORD" = '
            '"${{ matrix.word }}"\'], format: time}\n'
            "repetitions: {warmup: 0, runs: 1}\npin: {cpus: all}\n"
        )
        done = cli("run", str(path), "--json")
        assert done.status == 0, done.err
        runs = done.json()["runs"]
        assert [r["matrix"] for r in runs] == [{"word": "alpha"}, {"word": "beta"}]
        assert all(r["status"] == "completed" for r in runs)
        shown = cli("results", "show", runs[1]["run_id"], "--json")
        assert shown.json()["matrix"] == {"word": "beta"}
        text = cli("results", "show", runs[1]["run_id"])
        assert "matrix     word=beta" in text.out
        listed = cli("results", "list", "--json").json()
        assert {r["run_id"]: r["matrix"] for r in listed["runs"]}[runs[0]["run_id"]] == {
            "word": "alpha"
        }
