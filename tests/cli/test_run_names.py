"""`perflab run` and `history` with names that match nothing: exit 3, never a silent no-op."""

from __future__ import annotations

GO = """\
name: go-ish
benchmarks:
  - name: sum
    command: [python3, -c, "print('BenchmarkSum-2   1000   123 ns/op   16 B/op')"]
    format: go
repetitions: {warmup: 0, runs: 2}
gates:
  - {metric: wall_time, stat: median, max_increase: 10%}
"""


class TestGatesAtRunTime:
    def test_open_format_gate_checked_against_the_run(self, cli, write_job) -> None:
        """Go can report any unit, so validate accepts the gate; the run then shows it matches
        nothing: exit 3 pointing at the gate, the run and its samples kept."""
        job = write_job(GO)
        assert cli("validate", str(job)).status == 0
        result = cli("run", str(job), "--json")
        assert result.status == 3
        assert (
            "job.yaml:8:14: gates[0].metric: expected a metric of this run (time, "
            'bytes_per_op), got "wall_time" (did you mean "time"?)'
        ) in result.err
        doc = result.json()
        assert doc["status"] == "completed" and "gates[0].metric" in doc["message"]
        assert len(doc["benchmarks"][0]["metrics"]["time"]["samples"]) == 2

    def test_matching_gate_runs_quietly(self, cli, write_job) -> None:
        """The same job gated on `time` runs and exits 0."""
        result = cli("run", str(write_job(GO.replace("wall_time", "time"))), "--json")
        assert result.status == 0, result.err
        assert result.json()["message"] is None

    def test_ab_mode_reports_the_gate_at_its_line(self, cli, write_job) -> None:
        """In A/B mode both runs are kept and printed; the gate error points at the job (the
        variant's; the comparison, which would only repeat it without a place, is skipped)."""
        job = write_job(GO + "ab: {vary: env.X, values: ['1', '2']}\n")
        result = cli("run", str(job), "--json")
        assert result.status == 3
        assert "job.yaml (--vary env.X=1):" in result.err
        assert (
            "gates[0].metric: expected a metric of this run (time, bytes_per_op), got "
            '"wall_time"' in result.err
        )
        doc = result.json()
        assert [r["status"] for r in doc["runs"]] == ["completed", "completed"]
        assert doc["comparison"] is None
