"""`perflab run` with pinning and `--vary`, in-process: bad input, experiments, the shield."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.prepare.conftest import needs_root_cgroups

TWO_CPUS = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")


def stored(cli) -> list[dict]:
    return cli("results", "list", "--json").json()["runs"]


class TestBadInput:
    def test_runtime_not_installed(self, cli, write_job, tmp_path: Path) -> None:
        """A pinned runtime missing on the runner: exit 3 naming pin.runtime, nothing ran."""
        empty = tmp_path / "bin"
        empty.mkdir()
        path = write_job(
            f"name: j\nenv: {{PATH: {empty}}}\nsetup: [{{run: /bin/true}}]\n"
            "benchmarks: [{name: b, command: /bin/true, format: time}]\n"
            "pin: {runtime: erlang}\n"
        )
        result = cli("run", str(path))
        assert result.status == 3
        assert "pin.runtime" in result.err and '"erl" is not installed' in result.err
        run = cli("results", "show", stored(cli)[0]["run_id"], "--json").json()
        assert run["status"] == "failed" and run["repetitions"] == []

    def test_realtime_without_opt_in(self, cli, write_job) -> None:
        """A real-time policy without the opt-in: exit 3 at load, nothing stored."""
        path = write_job(
            'name: j\nbenchmarks: [{name: b, command: "true"}]\npin: {policy: "fifo:5"}\n'
        )
        result = cli("run", str(path))
        assert result.status == 3 and "pin.policy" in result.err and "opt-in" in result.err
        assert stored(cli) == []

    @pytest.mark.parametrize(
        ("args", "words"),
        [
            (["--vary", "pin.runtim=none,go"], 'no key "pin.runtim"'),
            (["--vary", "GOGC=1,2"], 'no key "GOGC"'),
            (["--vary", "pin.runtime=none,go", "--vary", "pin.nice=0,1"], "one variable"),
            (["--vary", "pin.runtime=none"], "two values"),
        ],
    )
    def test_bad_vary(self, cli, write_job, args: list[str], words: str) -> None:
        """--vary on a key the job does not have (or not one variable): exit 3, nothing run."""
        path = write_job('name: j\nbenchmarks: [{name: b, command: "true", format: time}]\n')
        result = cli("run", str(path), *args)
        assert result.status == 3 and "--vary" in result.err and words in result.err
        assert stored(cli) == []


class TestExperiment:
    def test_pin_runtime_variants(self, cli, write_job, home: Path) -> None:
        """--vary pin.runtime=none,go: two runs, one experiment; the fingerprints differ by the
        scheduling settings only (the go run's host part is the unpinned run's fingerprint)."""
        path = write_job(
            'name: j\nbenchmarks: [{name: b, command: "true", format: time}]\n'
            "repetitions: {warmup: 0, runs: 2}\npin: {proof: false}\n"
        )
        result = cli("run", str(path), "--vary", "pin.runtime=none,go", "--json")
        assert result.status == 0, result.err
        doc = result.json()
        none, go = doc["runs"]
        assert none["experiment"] == go["experiment"] == doc["experiment"]
        assert (none["variant"]["value"], go["variant"]["value"]) == ("none", "go")
        assert none["fingerprint"] != go["fingerprint"]
        assert go["tuning"]["fingerprint_parts"]["host"] == none["fingerprint"]
        assert set(go["tuning"]["pin"]["groups"][0]["env"]) == {"GOMAXPROCS"}
        assert "pin" not in none["tuning"]
        assert sorted(r["run_id"] for r in experiment_runs(doc["experiment"])) == sorted(
            [none["run_id"], go["run_id"]]
        )
        kept = (home / "runs" / go["run_id"] / "job.yaml").read_text()
        assert kept.startswith("# variant 1 of experiment exp-") and "runtime: go" in kept

    def test_human_output(self, cli, write_job) -> None:
        """Without --json: the experiment line and one table per value."""
        path = write_job(
            'name: j\nenv: {MODE: a}\nbenchmarks: [{name: b, command: "true", '
            "format: time}]\nrepetitions: {warmup: 0, runs: 1}\n"
        )
        result = cli("run", str(path), "--vary", "MODE=a,b")
        assert result.status == 0, result.err
        assert "experiment exp-" in result.out and "MODE=a: run" in result.out
        assert "MODE=b: run" in result.out


@needs_root_cgroups
@TWO_CPUS
class TestOnAShield:
    @pytest.fixture
    def shield_env(self, local_host, monkeypatch: pytest.MonkeyPatch):
        """The CLI's local runner uses the fixture's prefix and state file (restored after)."""
        monkeypatch.setenv("PERFLAB_PREFIX", local_host.prefix)
        monkeypatch.setenv("PERFLAB_STATE_DIR", str(Path(local_host.state_file).parent))
        return local_host

    def test_pin_list_outside_the_shield(self, cli, write_job, shield_env) -> None:
        """CPU 0 is housekeeping: exit 3 naming pin.cpus, nothing ran, the host restored."""
        path = write_job('name: j\nbenchmarks: [{name: b, command: "true"}]\npin: {cpus: "0"}\n')
        result = cli("run", str(path), "--profile", "shield")
        assert result.status == 3 and "pin.cpus" in result.err and "inside the shield" in result.err
        assert stored(cli) == []

    def test_vary_interleaved_on_one_prepared_host(
        self, cli, write_job, shield_env, tmp_path: Path
    ) -> None:
        """Two values: two runs on the same prepared host, repetitions interleaved (A B, B A,
        A B), everything but the variable equal."""
        path = write_job(
            "name: j\nenv: {MODE: a}\nbenchmarks:\n  - name: b\n"
            "    command: echo $MODE >> order.log\n    format: time\n"
            "repetitions: {warmup: 0, runs: 3}\n"
        )
        result = cli("run", str(path), "--profile", "shield", "--vary", "MODE=a,b", "--json")
        assert result.status == 0, result.err
        assert (tmp_path / "order.log").read_text().split() == ["a", "b", "b", "a", "a", "b"]
        a, b = result.json()["runs"]
        assert a["experiment"] == b["experiment"] and a["runner"] == b["runner"]
        assert a["fingerprint"] == b["fingerprint"] and a["tuning"]["cpus"] == b["tuning"]["cpus"]
        assert a["variant"]["fixed"] == b["variant"]["fixed"]
        assert result.json()["rounds"] == [[0, 1], [1, 0], [0, 1]]
        spec_a = store_spec(cli, a["run_id"])
        spec_b = store_spec(cli, b["run_id"])
        assert spec_a["env"] == {"MODE": "a"} and spec_b["env"] == {"MODE": "b"}
        assert {**spec_a, "env": None} == {**spec_b, "env": None}


def store_spec(cli, run_id: str) -> dict:
    from perflab.store import open_store

    store = open_store()
    try:
        return store.runs.get(run_id).fields["job_spec"]
    finally:
        store.close()


def experiment_runs(experiment: str) -> list[dict]:
    """The store finds an experiment's runs together (what a comparison reads)."""
    from perflab.store import open_store

    store = open_store()
    try:
        return store.runs.list(experiment=experiment)
    finally:
        store.close()
