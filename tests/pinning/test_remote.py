"""Pinning on an SSH runner (a fleet host): derived settings travel, the proof comes back."""

from __future__ import annotations

import shutil
import time

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def runner(cli, fleet, tmp_path):
    host = fleet.host(f"pin{time.monotonic_ns() % 10**9}")
    result = cli(
        "runner",
        "add",
        "box",
        "--host",
        host.address,
        "--port",
        str(host.port),
        "--user",
        host.user,
        "--key",
        str(host.key_file),
        "--accept-new-host-key",
        "--var",
        f"perflab_state_dir={tmp_path}/state",
    )  # not the machine's own
    assert result.status == 0, result.err
    return host


class TestRemote:
    def test_erlang_pinned_over_ssh(self, cli, runner, write_job) -> None:
        """The runner's harness passes ERL_AFLAGS and nice; erl's answers come back as proof."""
        if shutil.which("erl") is None:
            pytest.skip("erl is not installed")
        job = write_job(
            'name: remote-pin\nbenchmarks:\n  - {name: e, command: "erl -noshell '
            "-eval 'halt().'\", format: time}\nrepetitions: {warmup: 0, runs: 1}\n"
            "pin: {runtime: erlang, nice: 2}\n"
        )
        result = cli("run", str(job), "--runner", "box", "--json")
        assert result.status == 0, result.err
        pin = result.json()["tuning"]["pin"]
        assert pin["proof"]["ok"], pin["proof"]
        n = len(pin["proof"]["answers"]["probe-os-1"]["cpus_allowed"])
        assert pin["proof"]["answers"]["probe-erlang-1"]["schedulers_online"] == n
        assert pin["proof"]["answers"]["probe-os-1"]["nice"] == 2
