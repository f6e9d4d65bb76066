"""--vary: one variable, its values, and one valid job per value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perflab.errors import ExitStatus, InputError
from perflab.execute.experiment import chunks, turns
from perflab.execute.vary import Variable, parse_vary, split_values, variant_jobs
from perflab.spec.job import parse_job

JOB = """\
name: j
env: {MODE: a}
benchmarks:
  - {name: b, command: erl -noshell, env: {MODE: a}}
pin: {runtime: erlang}
repetitions: {runs: 3}
"""


def job():
    return parse_job(JOB, "j.yaml")


class TestParseVary:
    def test_values(self) -> None:
        """NAME=V1,V2 with \\, for a comma inside a value."""
        assert parse_vary(["pin.cpus=1,1\\,2"]) == Variable("pin.cpus", ["1", "1,2"])
        assert parse_vary(["ERL_FLAGS=+sbt u,+sbt db"]) == Variable(
            "ERL_FLAGS", ["+sbt u", "+sbt db"]
        )
        assert parse_vary([]) is None

    @pytest.mark.parametrize(
        ("items", "message"),
        [
            (["a=1,2", "b=1,2"], "one variable per experiment"),
            (["novalue"], "NAME=V1,V2"),
            (["pin.nice=1"], "at least two values"),
            (["pin.nice=1,1"], "twice"),
        ],
    )
    def test_refused(self, items: list[str], message: str) -> None:
        """Anything but one variable with distinct values is bad input naming --vary."""
        with pytest.raises(InputError, match=message) as caught:
            parse_vary(items)
        assert caught.value.field == "--vary"
        assert caught.value.exit_status == ExitStatus.INVALID_INPUT

    @given(st.lists(st.text().filter(lambda v: "\\" not in v), min_size=1))
    def test_escape_round_trip(self, values: list[str]) -> None:
        """Values written with escaped commas come back as they were."""
        text = ",".join(v.replace(",", "\\,") for v in values)
        assert split_values(text) == values


class TestVariantJobs:
    def test_field(self) -> None:
        """A dotted field is set (as YAML) in each variant, nothing else changes."""
        a, b = variant_jobs(job(), Variable("pin.runtime", ["none", "go"]))
        assert (a.pin.runtime, b.pin.runtime) == ("none", "go")
        assert a.benchmarks == b.benchmarks == job().benchmarks
        assert a.workdir == job().workdir and a.env == b.env

    def test_numbers_are_numbers(self) -> None:
        """pin.nice=0,5 sets integers, and the result is validated like the file."""
        jobs = variant_jobs(job(), Variable("pin.nice", ["0", "5"]))
        assert [j.pin.nice for j in jobs] == [0, 5]
        with pytest.raises(InputError, match=r"pin\.nice=fast"):
            variant_jobs(job(), Variable("pin.nice", ["0", "fast"]))

    def test_env_everywhere_the_job_sets_it(self) -> None:
        """An environment variable is replaced in the job's env and every benchmark's."""
        jobs = variant_jobs(job(), Variable("MODE", ["x", "y"]))
        assert [(j.env["MODE"], j.benchmarks[0].env["MODE"]) for j in jobs] == [
            ("x", "x"),
            ("y", "y"),
        ]

    def test_runtime_variable(self) -> None:
        """A variable the pinned runtime reads may be varied although the job does not set it."""
        jobs = variant_jobs(job(), Variable("ERL_FLAGS", ["+sbt u", "+sbt db"]))
        assert jobs[1].env["ERL_FLAGS"] == "+sbt db"

    @pytest.mark.parametrize(
        ("key", "hint"),
        [
            ("pin.runtim", 'did you mean "pin.runtime"'),
            ("GOGC", "environment variable"),
            ("MOD", 'did you mean "MODE"'),
            ("bogus.x", "no key"),
        ],
    )
    def test_unknown_key(self, key: str, hint: str) -> None:
        """A key the job does not have is named, with a suggestion where one is close."""
        with pytest.raises(InputError, match=hint) as caught:
            variant_jobs(job(), Variable(key, ["1", "2"]))
        assert key in str(caught.value) and caught.value.field == "--vary"


class TestRounds:
    def test_chunks(self) -> None:
        """Setup, probes and warmups belong to round 1; repetition r to round r."""
        steps = [
            {"kind": "setup", "index": 1},
            {"kind": "probe", "index": 1},
            {"kind": "warmup", "index": 1},
            {"kind": "run", "index": 1},
            {"kind": "run", "index": 2},
        ]
        assert {r: [s["kind"] for s in c] for r, c in chunks(steps).items()} == {
            1: ["setup", "probe", "warmup", "run"],
            2: ["run"],
        }

    def test_counted_rounds_come_last(self) -> None:
        """Counted repetition c has round ``after + c``: after every variant's timed ones
        (``after``: the experiment's last timed round), never between two of them."""
        steps = [
            {"kind": "setup", "index": 1},
            {"kind": "run", "index": 1},
            {"kind": "run", "index": 2},
            {"kind": "count", "index": 1},
            {"kind": "count", "index": 2},
        ]
        rounds = {r: [s["kind"] for s in c] for r, c in chunks(steps).items()}
        assert rounds == {1: ["setup", "run"], 2: ["run"], 3: ["count"], 4: ["count"]}
        assert sorted(chunks(steps, after=5)) == [1, 2, 6, 7]

    def test_turns_alternate(self) -> None:
        """Odd rounds in order, even rounds reversed: A B, B A, A B."""
        assert [turns(2, r) for r in (1, 2, 3)] == [[0, 1], [1, 0], [0, 1]]
