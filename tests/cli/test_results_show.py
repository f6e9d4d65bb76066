"""`perflab results show RUN`: the evidence, every repetition, every sample, the CPUs."""

from __future__ import annotations

import json
import re

import pytest

from perflab.model import ResultBuilder
from perflab.store import open_store

RUN = "5a0e5a0e"
ENV = {
    "hostname": "h",
    "kernel": "6.1",
    "arch": "x86_64",
    "allowed_cpus": "0-3",
    "cpu": {"model": "EPYC", "count": 4, "online": "0-3"},
}


def step(
    step_id: str,
    kind: str,
    index: int,
    wall_ns: int,
    nivcsw: int,
    exit_status: int = 0,
    other: float | None = None,
) -> dict:
    return {
        "step": step_id,
        "kind": kind,
        "benchmark": "sort",
        "index": index,
        "exit_status": exit_status,
        "timed_out": False,
        "wall_ns": wall_ns,
        "user_ns": wall_ns - 1000,
        "sys_ns": 1000,
        "maxrss_kb": 2048,
        "nvcsw": 1,
        "nivcsw": nivcsw,
        "other_share": other,
        "steal_share": None if other is None else 0.0,
        "runnable": None if other is None else 2,
        "evidence_window": None if other is None else 1,
    }


@pytest.fixture
def stored(home) -> str:
    """A run of three repetitions (a warmup first); each measured one produced two samples
    of BM_Sort's time and one of its throughput; the benchmark ran on CPUs 2-3."""
    with open_store() as store:
        store.runs.create_run(
            RUN,
            job="sorts",
            job_sha256="0" * 64,
            job_spec={"name": "sorts"},
            runner="local",
            platform="linux-x86_64",
            status="completed",
            perflab_version="test",
            tuning={"cpus": "2-3", "cgroups": ["/sys/fs/cgroup/cpuset/perflab-shield/tasks"]},
        )
        store.runs.add_environment(RUN, "before", ENV)
        store.runs.add_repetitions(
            RUN,
            [
                step("b0-w1", "warmup", 1, 9_000_000, 0),
                step("b0-r1", "run", 1, 8_500_000, 3, other=0.01),
                step("b0-r2", "run", 2, 8_250_000, 0, other=0.02),
                step("b0-r3", "run", 3, 8_750_000, 41, other=0.48),
            ],
        )
        parts = []
        for rep, times in ((1, [23.1, 23.4]), (2, [22.9, 23.0]), (3, [31.5, 30.8])):
            builder = ResultBuilder()
            builder.add_many("BM_Sort/64", "time", times, "ns", "lower")
            builder.add("BM_Sort/64", "bytes_per_second", 1.5e9 + rep, "B/s", "higher")
            parts.append((rep, builder.result))
        store.runs.add_results(RUN, parts)
    return RUN


def section(out: str, title: str) -> str:
    """The lines of the table under ``title`` (up to the next blank line or heading)."""
    found = re.search(rf"^{re.escape(title)}[ ]*$", out, re.MULTILINE)  # the title line
    assert found, out
    return out[found.end() :].split("\n\n", 1)[0]


class TestShow:
    def test_every_repetition_is_listed(self, cli, stored: str) -> None:
        """Each step: kind, number, exit status, wall time, and the involuntary context
        switches (someone else ran on the benchmark's CPU: contamination evidence)."""
        out = cli("results", "show", stored).out
        table = section(out, "repetitions")
        rows = [line for line in table.splitlines() if "b0-" in line]
        assert [r.split()[1] for r in rows] == ["b0-w1", "b0-r1", "b0-r2", "b0-r3"]
        assert "warmup" in rows[0] and "9 ms" in rows[0]
        assert "8.25 ms" in rows[2]
        assert rows[3].split()[-6] == "41"

    def test_contamination_evidence_is_shown(self, cli, stored: str) -> None:
        """Others' share of the benchmark's CPUs per repetition (and steal), a summary line,
        and every field in --json."""
        out = cli("results", "show", stored).out
        rows = [line for line in section(out, "repetitions").splitlines() if "b0-" in line]
        assert rows[3].split()[-4::2] == ["48%", "0%"]
        assert rows[0].split()[-4::2] == ["-", "-"]  # the warmup has no evidence here
        assert "others     used 2% of the benchmark's CPUs (median; max 48%)" in out
        assert "1/3 repetitions at or above 10%" in out
        data = json.loads(cli("results", "show", stored, "--json").out)
        rep = next(r for r in data["repetitions"] if r["step"] == "b0-r3")
        assert rep["other_share"] == 0.48 and rep["steal_share"] == 0.0
        assert rep["runnable"] == 2 and rep["evidence_window"] == 1

    def test_every_sample_is_listed_by_repetition(self, cli, stored: str) -> None:
        """Samples per repetition, not only a summary: repetition 3's slow pair shows."""
        out = cli("results", "show", stored).out
        table = section(out, "samples of BM_Sort/64")
        rows = {
            line.split()[1]: line
            for line in table.splitlines()
            if line.split()[1:2] and line.split()[1].isdigit()
        }
        assert sorted(rows) == ["1", "2", "3"]
        assert "23.1 ns, 23.4 ns" in rows["1"] and "31.5 ns, 30.8 ns" in rows["3"]
        assert "1.397 GiB/s" in rows["2"]

    def test_the_cpus_the_benchmark_ran_on(self, cli, stored: str) -> None:
        """Where it ran: the benchmark's CPUs, of which online, and in which cgroup."""
        out = cli("results", "show", stored).out
        line = next(x for x in out.splitlines() if x.startswith("cpus "))
        assert "2-3" in line and "online 0-3" in line
        assert "/sys/fs/cgroup/cpuset/perflab-shield" in line

    def test_unpinned_run_says_so(self, cli, home) -> None:
        """A run that was not pinned says the benchmark could use every allowed CPU."""
        with open_store() as store:
            store.runs.create_run(
                "0f0f0f0f",
                job="j",
                job_sha256="0" * 64,
                job_spec={"name": "j"},
                runner="local",
                status="completed",
                perflab_version="test",
                tuning={"cpus": "", "cgroups": []},
            )
            store.runs.add_environment("0f0f0f0f", "before", ENV)
        out = cli("results", "show", "0f0f0f0f").out
        line = next(x for x in out.splitlines() if x.startswith("cpus "))
        assert "not pinned" in line and "allowed 0-3" in line
