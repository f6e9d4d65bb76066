"""The runtimes' answers against what was applied: checks, mismatches, unproven probes."""

from __future__ import annotations

import json

from perflab.pinning.plan import PinPlan, plan_pin
from perflab.pinning.proof import ProbeResult, prove
from perflab.spec.job import parse_job


def plan(pin: str, cpus=(1,), pinned: bool = True) -> PinPlan:
    job = parse_job(f"name: j\nbenchmarks: [{{name: b, command: erl}}]\npin: {pin}\n", "j.yaml")
    return plan_pin(job, job.pin, list(cpus), pinned=pinned, extra_env={}, python="p", rundir="/r")


def os_answer(
    cpus: str = "1",
    policy: int = 0,
    prio: int = 0,
    nice: int = 0,
    env: dict | None = None,
    rttime: str = "unlimited",
) -> str:
    fields = ["S"] + ["0"] * 15 + [str(nice)] + ["0"] * 20 + [str(prio), str(policy)] + ["0"] * 5
    return json.dumps(
        {
            "status": f"Cpus_allowed_list:\t{cpus}\n",
            "stat": "9 (python3) " + " ".join(fields),
            "limits": f"Max realtime timeout {rttime} {rttime} us\n",
            "cgroup": "",
            "env": env or {},
        }
    )


ERL_OK = (
    "schedulers=1\nschedulers_online=1\ndirty_cpu_schedulers=1\n"
    "dirty_cpu_schedulers_online=1\nscheduler_bindings=[1]\n"
)
ENV = {"ERL_AFLAGS": "+S 1:1 +SDcpu 1:1 +sbt db"}


def results(**outputs: str) -> dict[str, ProbeResult]:
    return {f"probe-{k}-1": ProbeResult(f"probe-{k}-1", k, 1, True, v) for k, v in outputs.items()}


class TestProve:
    def test_obeyed(self) -> None:
        """Affinity, variables and Erlang's schedulers all as applied: no flag."""
        proof = prove(plan("{runtime: erlang}"), results(os=os_answer(env=ENV), erlang=ERL_OK))
        assert proof.mismatches == [] and proof.unproven == {} and proof.flags({}) == []
        assert {c.what for c in proof.checks} >= {
            "Cpus_allowed_list",
            "schedulers_online",
            "unbound online schedulers",
        }

    def test_erlang_with_more_schedulers(self) -> None:
        """The seed's mistake: 4 schedulers online on a 1-CPU shield is a mismatch."""
        bad = ERL_OK.replace("schedulers_online=1", "schedulers_online=4")
        proof = prove(plan("{runtime: erlang}"), results(os=os_answer(env=ENV), erlang=bad))
        flag = proof.flags({"x": 1})[0]
        assert flag["code"] == "pin_mismatch" and flag["evidence"] == {"x": 1}
        assert "erlang schedulers_online is 4, expected 1" in flag["message"]

    def test_binding_outside_the_shield(self) -> None:
        """A scheduler bound to a CPU the benchmark does not own is named."""
        bad = ERL_OK.replace("[1]", "[0]")
        proof = prove(plan("{runtime: erlang}"), results(os=os_answer(env=ENV), erlang=bad))
        assert [c.what for c in proof.mismatches] == ["schedulers bound outside the owned CPUs"]
        assert 'is "0", expected ""' in proof.mismatches[0].message()

    def test_os_placement_and_policy(self) -> None:
        """Another affinity, policy, priority, nice or limit than applied: each is a mismatch."""
        p = plan('{runtime: none, policy: "fifo:5", nice: 2, realtime: {allow: true, limit: 1s}}')
        good = os_answer(policy=1, prio=5, nice=2, rttime="1000000")
        assert prove(p, results(os=good)).mismatches == []
        bad = os_answer(cpus="0-1", policy=0, prio=0, nice=0)
        whats = {c.what for c in prove(p, results(os=bad)).mismatches}
        assert whats == {"Cpus_allowed_list", "policy", "rt priority", "nice", "RLIMIT_RTTIME (us)"}

    def test_variable_that_did_not_arrive(self) -> None:
        """A derived variable missing in the benchmark's environment is a mismatch."""
        proof = prove(plan("{runtime: go, proof: true}"), results(os=os_answer()))
        assert [c.what for c in proof.mismatches] == ["$GOMAXPROCS"]

    def test_go(self) -> None:
        """GOMAXPROCS(0) must be what was applied, NumCPU() the owned CPUs when pinned."""
        p = plan("{runtime: go}", cpus=(1, 2))
        go = "gomaxprocs=2\nnumcpu=2\nversion=go1.19\n"
        env = {"GOMAXPROCS": "2"}
        assert prove(p, results(os=os_answer("1-2", env=env), go=go)).mismatches == []
        proof = prove(p, results(os=os_answer("1-2", env=env), go=go.replace("=2\nv", "=4\nv")))
        assert [c.what for c in proof.mismatches] == ["NumCPU()"]

    def test_unpinned_checks_no_placement(self) -> None:
        """Unpinned, the whole machine is owned: no affinity check, settings still checked."""
        p = plan("{runtime: go}", cpus=(0, 1), pinned=False)
        go = "gomaxprocs=2\nnumcpu=2\n"
        proof = prove(p, results(os=os_answer("0-1", env={"GOMAXPROCS": "2"}), go=go))
        assert proof.mismatches == [] and "Cpus_allowed_list" not in {c.what for c in proof.checks}

    def test_unproven(self) -> None:
        """A probe that failed or printed nonsense is reported, never taken as an answer."""
        p = plan("{runtime: erlang}")
        failed = {
            "probe-os-1": ProbeResult("probe-os-1", "os", 1, True, os_answer(env=ENV)),
            "probe-erlang-1": ProbeResult(
                "probe-erlang-1", "erlang", 1, False, "", "exit status 1: boom"
            ),
        }
        proof = prove(p, failed)
        assert proof.unproven == {"probe-erlang-1": "exit status 1: boom"}
        assert [f["code"] for f in proof.flags({})] == ["pin_unproven"]
        assert prove(p, {}).unproven["probe-os-1"] == "did not run"

    def test_command_line_settings_are_not_probed(self) -> None:
        """A value on the benchmark's own command line is recorded, not checked: the probe
        does not run that command line."""
        job = parse_job(
            "name: j\nbenchmarks: [{name: b, command: 'erl +S 2:2 -s b'}]\n"
            "pin: {runtime: erlang}\n",
            "j.yaml",
        )
        p = plan_pin(job, job.pin, [1], pinned=True, extra_env={}, python="p", rundir="/r")
        assert next(s for s in p.groups[0].settings if s.name == "+S").source == "job command"
        env = {"ERL_AFLAGS": "+SDcpu 1:1 +sbt db"}
        proof = prove(
            p, results(os=os_answer(env=env), erlang=ERL_OK.replace("schedulers=1", "schedulers=2"))
        )
        assert proof.mismatches == [] and "schedulers" not in {c.what for c in proof.checks}
