"""The pin plan: environment per benchmark, probe steps, scheduling, fingerprint data."""

from __future__ import annotations

from perflab.execute.plan import bench_steps, setup_steps
from perflab.pinning.plan import plan_pin, with_pinning
from perflab.spec.job import Job, parse_job
from perflab.spec.pin import merge, parse_pin

JOB = """\
name: j
env: {GOGC: "200"}
setup: [{run: make}]
benchmarks:
  - {name: ring, command: "erl -noshell -s ring"}
  - {name: tuned, command: "erl -noshell -s ring", env: {ERL_FLAGS: "+sbwt none"}}
  - {name: other, command: ./other, env: {MODE: x}}
repetitions: {warmup: 1, runs: 2}
"""


def job(pin: str = "{runtime: erlang}") -> Job:
    return parse_job(JOB + f"pin: {pin}\n", "j.yaml")


def plan(j: Job, cpus=(1, 2), **kw):
    return plan_pin(
        j,
        j.pin,
        list(cpus),
        pinned=kw.pop("pinned", True),
        extra_env=kw.pop("extra_env", {}),
        python="python3",
        rundir="/r",
    )


class TestPlanPin:
    def test_groups_share_probes(self) -> None:
        """Benchmarks with the same runtime environment share probes; one that sets its own
        Erlang flags gets its own group and its own answers."""
        p = plan(job())
        assert [g.benchmarks for g in p.groups] == [["ring", "other"], ["tuned"]]
        assert [s["id"] for s in p.steps] == [
            "probe-os-1",
            "probe-erlang-1",
            "probe-os-2",
            "probe-erlang-2",
        ]
        assert p.bench_env[0] == {"ERL_AFLAGS": "+S 2:2 +SDcpu 2:2 +sbt db"}
        assert p.groups[1].env == p.bench_env[1]

    def test_requires_the_runtime(self) -> None:
        """A runtime probe needs its program; the requirement names pin.runtime."""
        p = plan(job())
        assert p.require == [
            {"program": "erl", "field": "pin.runtime", "message": p.require[0]["message"]}
        ]
        assert "not installed" in p.require[0]["message"]

    def test_no_proof(self) -> None:
        """proof: false: settings only, no probes, nothing required."""
        p = plan(job("{runtime: go, proof: false}"))
        assert p.steps == [] and p.require == [] and p.bench_env[0] == {"GOMAXPROCS": "2"}

    def test_auto_detects(self) -> None:
        """auto configures and probes what the commands start."""
        p = plan(job("{runtime: auto}"))
        assert p.runtimes == ["erlang"] and p.detected == ["erlang"]

    def test_auto_without_a_known_program_sets_every_runtime(self) -> None:
        """Unrecognised binaries: every runtime's variables, only the os probe."""
        j = parse_job(
            "name: j\nbenchmarks: [{name: b, command: ./b}]\npin: {runtime: auto}\n", "j.yaml"
        )
        p = plan(j)
        assert p.detected == [] and len(p.runtimes) == 6
        assert {"GOMAXPROCS", "OMP_NUM_THREADS", "ERL_AFLAGS"} <= set(p.bench_env[0])
        assert [s["probe"] for s in p.steps] == ["os"]

    def test_sched(self) -> None:
        """Policy, priority, nice and the runtime limit go to the harness in microseconds."""
        p = plan(
            job('{runtime: none, policy: "rr:7", nice: -2, realtime: {allow: true, limit: 1.5s}}')
        )
        assert p.sched == {
            "policy": "rr",
            "priority": 7,
            "nice": -2,
            "rttime_us": 1500000,
            "field": "pin.policy",
        }
        assert plan(job()).sched is None

    def test_profile_defaults(self) -> None:
        """The profile's keys apply unless the job sets them."""
        j = job("{nice: 3}")
        spec = merge(j.pin, parse_pin({"runtime": "go", "nice": 9}, "profile"))
        p = plan_pin(j, spec, [1], pinned=True, extra_env={}, python="p", rundir="/r")
        assert p.runtimes == ["go"] and p.sched and p.sched["nice"] == 3
        assert p.to_dict()["from"]["runtime"] == "profile"

    def test_fingerprint_data_follows_the_settings(self) -> None:
        """Other settings, another fingerprint; the same settings, the same one."""
        a, b = plan(job()), plan(job(), cpus=(1,))
        assert a.fingerprint_data() != b.fingerprint_data()
        assert a.fingerprint_data() == plan(job()).fingerprint_data()


class TestWithPinning:
    def test_probes_after_setup_env_on_benchmarks(self) -> None:
        """Probes come after the setup steps and before the first warmup; every benchmark
        step carries its group's environment, setup steps nothing."""
        j = job()
        p = plan(j)
        steps = with_pinning(p, setup_steps(j) + bench_steps(j, range(1, 3), warmups=1))
        kinds = [s["kind"] for s in steps]
        assert kinds[:6] == ["setup", "probe", "probe", "probe", "probe", "warmup"]
        assert "ERL_AFLAGS" not in steps[0]["env"]
        tuned = next(s for s in steps if s["benchmark"] == 1)
        assert tuned["env"]["ERL_AFLAGS"] == "+S 2:2 +SDcpu 2:2 +sbt db"
        assert tuned["env"]["ERL_FLAGS"] == "+sbwt none"
