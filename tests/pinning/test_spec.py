"""The pin section typed: policies, the real-time opt-in, profile defaults under the job's keys."""

from __future__ import annotations

import pytest

from perflab.errors import ExitStatus, InputError
from perflab.spec.job import parse_job
from perflab.spec.pin import PinSpec, Policy, merge, parse_pin, parse_policy

JOB = "name: j\nbenchmarks: [{name: b, command: ./b}]\n"


def job_with(pin: str):
    return parse_job(JOB + f"pin: {pin}\n", "job.yaml")


class TestParsePolicy:
    def test_other_and_realtime(self) -> None:
        """ "other" is CFS; fifo/rr carry a priority and are real-time."""
        assert parse_policy("other") == Policy()
        assert parse_policy("fifo:10") == Policy("fifo", 10)
        assert parse_policy("rr:99").realtime and str(parse_policy("rr:99")) == "rr:99"

    @pytest.mark.parametrize("text", ["fifo", "fifo:0", "rr:100", "other:1", "batch", "fifo:x"])
    def test_bad(self, text: str) -> None:
        """Anything else says what is expected."""
        with pytest.raises(ValueError, match="expected"):
            parse_policy(text)


class TestParsePin:
    def test_defaults_change_nothing(self) -> None:
        """Without runtime, policy or nice a pin is inactive: runs behave as before."""
        spec = job_with('{cpus: "1"}').pin
        assert spec == PinSpec(origin={}) and not spec.active and not spec.wants_proof

    def test_fields(self) -> None:
        """Every key is typed and remembered as set by the job."""
        spec = job_with("{runtime: go, nice: 5, erlang: {sbwt: none}, proof: false}").pin
        assert (spec.runtime, spec.nice, dict(spec.erlang), spec.proof) == (
            "go",
            5,
            {"sbwt": "none"},
            False,
        )
        assert spec.active and not spec.wants_proof
        assert spec.source("runtime") == "job" and spec.source("policy") == "default"

    def test_realtime_needs_the_opt_in(self) -> None:
        """A real-time policy without pin.realtime is refused at load, pointing at the policy."""
        with pytest.raises(InputError) as caught:
            job_with('{policy: "fifo:10"}')
        assert (
            caught.value.field == "pin.policy"
            and caught.value.exit_status == ExitStatus.INVALID_INPUT
        )
        assert str(caught.value).startswith("job.yaml:3:") and "opt-in" in str(caught.value)

    def test_opt_in_false_is_refused(self) -> None:
        """allow: false is no opt-in."""
        with pytest.raises(InputError, match="opt-in"):
            job_with('{policy: "rr:5", realtime: {allow: false, limit: 1s}}')

    def test_opt_in_with_limit(self) -> None:
        """With the opt-in the limit becomes seconds (RLIMIT_RTTIME)."""
        spec = job_with('{policy: "fifo:3", realtime: {allow: true, limit: 250ms}}').pin
        assert spec.policy == Policy("fifo", 3) and spec.realtime_limit == 0.25

    def test_limit_without_realtime_policy_is_ignored(self) -> None:
        """The opt-in alone allows nothing and limits nothing."""
        spec = job_with("{realtime: {allow: true, limit: 1s}, nice: 1}").pin
        assert spec.realtime_limit is None and not spec.policy.realtime

    @pytest.mark.parametrize(
        "pin",
        [
            '{policy: "fifo:100"}',
            "{runtime: python}",
            "{nice: 20}",
            "{realtime: {allow: true}}",
            "{erlang: {sbwt: fast}}",
        ],
    )
    def test_schema_errors(self, pin: str) -> None:
        """Values outside the schema are input errors (exit 3)."""
        with pytest.raises(InputError):
            job_with(pin)


class TestMerge:
    def test_job_keys_win(self) -> None:
        """A profile's pin is a default; the job's keys replace it key by key."""
        profile = parse_pin({"runtime": "auto", "nice": 5, "erlang": {"sbwt": "none"}}, "profile")
        job = parse_pin({"runtime": "go", "erlang": {"swt": "low"}}, "job")
        merged = merge(job, profile)
        assert merged.runtime == "go" and merged.nice == 5
        assert dict(merged.erlang) == {"sbwt": "none", "swt": "low"}
        assert merged.source("runtime") == "job" and merged.source("nice") == "profile"

    def test_policy_travels_with_its_opt_in(self) -> None:
        """A job's policy replaces the profile's policy and its limit together."""
        profile = parse_pin(
            {"policy": "fifo:5", "realtime": {"allow": True, "limit": "1s"}}, "profile"
        )
        job = parse_pin({"policy": "other"}, "job")
        merged = merge(job, profile)
        assert merged.policy == Policy() and merged.realtime_limit is None

    def test_no_profile(self) -> None:
        """Without a profile the job's pin is the pin."""
        job = parse_pin({"nice": 2}, "job")
        assert merge(job, None) is job
