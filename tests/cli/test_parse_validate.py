"""`perflab parse` and `perflab validate` through the CLI."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "formats"


class TestParse:
    def test_auto_detects_and_prints_json(self, cli) -> None:
        """parse --json prints the normalized result of a real gbench file."""
        result = cli("parse", str(DATA / "gbench" / "repetitions.json"), "--json")
        assert result.status == 0, result.err
        doc = result.json()
        assert doc["schema"] == "perflab-result/1"
        assert doc["meta"]["format"] == "gbench"
        assert all(
            m["direction"] in ("lower", "higher")
            for b in doc["benchmarks"]
            for m in b["metrics"].values()
        )

    def test_criterion_directory(self, cli) -> None:
        """A Criterion target directory parses as one result."""
        result = cli("parse", str(DATA / "criterion" / "target"), "--json")
        assert result.status == 0, result.err
        assert result.json()["meta"]["format"] == "criterion"

    def test_table_output(self, cli) -> None:
        """Without --json a table is printed."""
        result = cli("parse", str(DATA / "go" / "bench.txt"))
        assert result.status == 0 and "median" in result.out

    def test_wrong_format_is_bad_input(self, cli) -> None:
        """Forcing a format that does not match: exit 3 naming the format."""
        result = cli("parse", str(DATA / "gbench" / "repetitions.json"), "--format", "go")
        assert result.status == 3 and "go output" in result.err

    def test_truncated_output(self, cli) -> None:
        """Truncated output: exit 3 with the place."""
        result = cli("parse", str(DATA / "gbench" / "truncated.json"))
        assert result.status == 3 and "line" in result.err

    def test_missing_file(self, cli, tmp_path: Path) -> None:
        """A missing file: exit 3."""
        result = cli("parse", str(tmp_path / "x.json"))
        assert result.status == 3 and "no such file" in result.err

    def test_unknown_format_option(self, cli) -> None:
        """An unknown --format is a usage error, exit 3 (never click's 2, which means regression)."""
        result = cli("parse", str(DATA / "go" / "bench.txt"), "--format", "nope")
        assert result.status == 3


class TestValidate:
    def test_good_job(self, cli) -> None:
        """The example jobs validate."""
        result = cli("validate", "examples/quickstart.yaml")
        assert result.status == 0 and "ok (job)" in result.out

    def test_every_file_is_reported(self, cli, write_job) -> None:
        """Bad files: every error as file:line:col, exit 3; good files still say ok."""
        bad = write_job("name: x\nbenchmarks:\n  - name: a\n    comand: b\n", "bad.yaml")
        result = cli("validate", str(bad), "examples/quickstart.yaml")
        assert result.status == 3
        assert "bad.yaml:4:5: benchmarks[0].comand: unknown key" in result.err
        assert 'did you mean "command"?' in result.err
        assert "bad.yaml:3:5: benchmarks[0].command: missing required field" in result.err
        assert "examples/quickstart.yaml: ok" in result.out

    def test_gate_on_a_metric_the_format_never_produces(self, cli, write_job) -> None:
        """The issue's case: a time job gated on `time` is refused with a suggestion, exit 3."""
        job = write_job(
            "name: q\nbenchmarks: [{name: a, command: 'true', format: time}]\n"
            "gates:\n  - {metric: time, stat: p95, max_increase: 10%}\n"
        )
        result = cli("validate", str(job))
        assert result.status == 3
        assert "job.yaml:4:14: gates[0].metric: expected a metric the time format" in result.err
        assert 'got "time" (did you mean "wall_time"?)' in result.err

    def test_malformed_yaml(self, cli, write_job) -> None:
        """Malformed YAML: a position, never a traceback."""
        result = cli("validate", str(write_job("name: [unclosed\n")))
        assert result.status == 3 and "invalid YAML" in result.err
        assert "Traceback" not in result.err
