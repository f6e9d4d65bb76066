"""Planning steps and CPU placement (pure)."""

from __future__ import annotations

import pytest

from perflab.errors import InputError
from perflab.execute.plan import bench_steps, harness_request, setup_steps
from perflab.facts.cpulist import CpuListError, format_cpulist, parse_cpulist
from perflab.pinning.cpus import housekeeping_cpus, resolve_placement
from perflab.spec.job import parse_job

JOB = """\
name: j
setup: [{run: make}]
benchmarks:
  - {name: a, command: ./a}
  - {name: b, command: [./b, -x]}
repetitions: {warmup: 1, runs: 2}
"""


def job(text: str = JOB):
    return parse_job(text, "j.yaml")


class TestBenchSteps:
    def test_sequential_order(self) -> None:
        """Sequential: each benchmark's warmups then runs, one benchmark after another."""
        ids = [s["id"] for s in bench_steps(job(), range(1, 3), warmups=1)]
        assert ids == ["b0-w1", "b0-r1", "b0-r2", "b1-w1", "b1-r1", "b1-r2"]

    def test_interleaved_order(self) -> None:
        """Interleaved: benchmarks take turns per repetition, so drift hits all alike."""
        j = job(JOB.replace("runs: 2}", "runs: 2, order: interleaved}"))
        ids = [s["id"] for s in bench_steps(j, range(1, 3), warmups=1)]
        assert ids == ["b0-w1", "b1-w1", "b0-r1", "b1-r1", "b0-r2", "b1-r2"]

    def test_shell_and_argv_commands(self) -> None:
        """Strings go to the shell, lists are run directly."""
        steps = bench_steps(job(), range(1, 2))
        assert steps[0]["shell"] == "./a" and "argv" not in steps[0]
        assert steps[1]["argv"] == ["./b", "-x"]

    def test_single_process_mode(self) -> None:
        """fresh_process: false runs each command once and tells it the repetition count."""
        j = job(JOB.replace("runs: 2}", "runs: 7, fresh_process: false}"))
        steps = bench_steps(j, range(1, 8), warmups=1)
        assert [s["id"] for s in steps] == ["b0-r1", "b1-r1"]
        assert steps[0]["env"]["PERFLAB_RUNS"] == "7"

    def test_repetition_environment(self) -> None:
        """Each step knows its benchmark, phase and repetition number."""
        step = bench_steps(job(), range(1, 3), warmups=1)[2]
        assert step["env"] == {
            "PERFLAB_BENCHMARK": "a",
            "PERFLAB_REPETITION": "2",
            "PERFLAB_PHASE": "run",
        }

    def test_setup_and_request(self) -> None:
        """The harness request carries the job env, CPUs and steps without bookkeeping keys."""
        j = job()
        steps = setup_steps(j) + bench_steps(j, range(1, 2))
        req = harness_request(j, steps, workdir="/w", rundir="/r", cpus=[1, 2, 3], env={"X": "1"})
        assert req["env"]["PERFLAB_CPUS"] == "1-3" and req["env"]["X"] == "1"
        assert req["steps"][0]["id"] == "setup-1" and "benchmark" not in req["steps"][0]


class TestPlacement:
    def test_default_housekeeping_is_cpu0_and_siblings(self) -> None:
        """CPU 0 with its SMT sibling does housekeeping."""
        assert housekeeping_cpus([0, 1, 2, 3], {0: "0,2"}) == [0, 2]
        assert housekeeping_cpus([0, 1], {}) == [0]
        assert housekeeping_cpus([0, 1, 2, 3], {0: "0"}, "0-1") == [0, 1]

    def test_reserved(self) -> None:
        """reserved = online minus housekeeping."""
        placement = resolve_placement("reserved", [0, 1, 2, 3], [0, 2])
        assert placement.cpus == [1, 3] and placement.note is None

    def test_single_cpu_host_runs_unpinned_with_a_note(self) -> None:
        """With nothing left to reserve the run is not pinned, and says so."""
        placement = resolve_placement("reserved", [0], [0])
        assert placement.cpus is None and "no CPU is left" in (placement.note or "")

    def test_all_means_unpinned(self) -> None:
        """all: no affinity at all."""
        assert resolve_placement("all", [0, 1], [0]).cpus is None

    def test_explicit_list_outside_the_host(self) -> None:
        """A CPU the host does not have is bad input naming the host's CPUs."""
        with pytest.raises(InputError, match=r'expected CPUs of this host \(0-1\), got "1-3"'):
            resolve_placement([1, 2, 3], [0, 1], [0])


class TestCpuList:
    @pytest.mark.parametrize(
        ("text", "cpus"), [("0-3,8", [0, 1, 2, 3, 8]), ("5", [5]), ("", []), ("1,1-2", [1, 2])]
    )
    def test_parse(self, text: str, cpus: list[int]) -> None:
        """Kernel CPU lists parse to sorted CPU numbers."""
        assert parse_cpulist(text) == cpus

    @pytest.mark.parametrize("bad", ["2-", "a", "3-1", "-1"])
    def test_bad(self, bad: str) -> None:
        """Malformed lists are refused with the text."""
        with pytest.raises(CpuListError):
            parse_cpulist(bad)

    def test_roundtrip(self) -> None:
        """format_cpulist is the inverse of parse_cpulist."""
        for cpus in ([0], [0, 1, 2, 5, 7, 8, 9], list(range(64))):
            assert parse_cpulist(format_cpulist(cpus)) == cpus


class TestAllowedCpus:
    def test_cpus_another_cpuset_took_are_refused_up_front(self) -> None:
        """Reserved CPUs outside what perflab's processes may use: a host error naming both."""
        from perflab.errors import HostError
        from perflab.execute.runner import _check_allowed
        from perflab.pinning.cpus import Placement

        placement = Placement([1], [0], [1])
        with pytest.raises(HostError, match=r"CPU\(s\) 1 are not available.*allows only 0"):
            _check_allowed(placement, {"allowed_cpus": "0"}, "local")
        _check_allowed(placement, {"allowed_cpus": "0-1"}, "local")
        _check_allowed(Placement(None, [0], [1]), {"allowed_cpus": "0"}, "local")
