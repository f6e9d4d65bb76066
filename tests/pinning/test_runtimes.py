"""Settings derived per runtime from the owned CPUs; the job's own values win."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from perflab.pinning import erlang
from perflab.pinning.runtimes import KNOWN, apply, derive

CPUS = st.lists(st.integers(0, 255), min_size=1, max_size=64, unique=True)


class TestDerive:
    def test_erlang(self) -> None:
        """Erlang: +S N:N, +SDcpu N:N, +sbt db in ERL_AFLAGS, plus the flags the job asks for."""
        got = [(s.name, s.value, s.env) for s in derive("erlang", [2, 3], {"sbwt": "none"})]
        assert got == [
            ("+S", "2:2", "ERL_AFLAGS"),
            ("+SDcpu", "2:2", "ERL_AFLAGS"),
            ("+sbt", "db", "ERL_AFLAGS"),
            ("+sbwt", "none", "ERL_AFLAGS"),
        ]

    def test_plain_runtimes(self) -> None:
        """Go, OpenMP, tokio/rayon, node and the JVM get their documented variables."""
        cpus = [1, 3]
        table = {r: {(s.name, s.value) for s in derive(r, cpus, {})} for r in KNOWN}
        assert table["go"] == {("GOMAXPROCS", "2")}
        assert table["openmp"] == {
            ("OMP_NUM_THREADS", "2"),
            ("OMP_PROC_BIND", "close"),
            ("OMP_PLACES", "{1},{3}"),
        }
        assert table["tokio"] == {("TOKIO_WORKER_THREADS", "2"), ("RAYON_NUM_THREADS", "2")}
        assert table["node"] == {("UV_THREADPOOL_SIZE", "2")}
        assert table["jvm"] == {("-XX:ActiveProcessorCount", "2")}

    @given(CPUS)
    def test_sized_to_the_owned_cpus(self, cpus: list[int]) -> None:
        """Every count perflab derives is the number of owned CPUs."""
        n = str(len(cpus))
        assert derive("go", cpus, {})[0].value == n
        assert derive("erlang", cpus, {})[0].value == f"{n}:{n}"


class TestApply:
    def test_derived_go_into_the_environment(self) -> None:
        """Nothing set by the job: every setting is derived and carried by its variable."""
        env, applied = apply(derive("go", [1], {}) + derive("jvm", [1], {}), {}, "./bench")
        assert env == {"GOMAXPROCS": "1", "JAVA_TOOL_OPTIONS": "-XX:ActiveProcessorCount=1"}
        assert {s.source for s in applied} == {"derived"}

    def test_job_env_wins(self) -> None:
        """A variable the job sets is left alone and recorded with the job's value."""
        env, applied = apply(derive("go", [1], {}), {"GOMAXPROCS": "4"}, "./bench")
        assert env == {} and (applied[0].value, applied[0].source) == ("4", "job")

    def test_command_assignment_wins(self) -> None:
        """So does NAME=value on the benchmark's command line."""
        env, applied = apply(derive("openmp", [1], {}), {}, "OMP_NUM_THREADS=8 ./omp")
        assert "OMP_NUM_THREADS" not in env and env["OMP_PROC_BIND"] == "close"
        assert (applied[0].name, applied[0].source) == ("OMP_NUM_THREADS", "job command")

    def test_erlang_flags_in_erl_flags_win(self) -> None:
        """A flag in ERL_FLAGS beats the derived one; the rest still goes in ERL_AFLAGS."""
        env, applied = apply(
            derive("erlang", [1], {}), {"ERL_FLAGS": "+sbt u +sbwt none"}, "erl -noshell"
        )
        assert env == {"ERL_AFLAGS": "+S 1:1 +SDcpu 1:1"}
        bind = next(s for s in applied if s.name == "+sbt")
        assert (bind.value, bind.source) == ("u", "job")

    def test_erlang_command_line_and_own_aflags(self) -> None:
        """Flags on erl's command line win; the job's own ERL_AFLAGS is kept after ours."""
        env, applied = apply(
            derive("erlang", [1], {}), {"ERL_AFLAGS": "+A 4"}, ["erl", "+S", "2:2", "-noshell"]
        )
        assert env == {"ERL_AFLAGS": "+SDcpu 1:1 +sbt db +A 4"}
        assert next(s for s in applied if s.name == "+S").source == "job command"

    def test_jvm_option_in_tool_options(self) -> None:
        """-XX:ActiveProcessorCount the job passes wins; other options are kept."""
        env, applied = apply(
            derive("jvm", [1], {}),
            {"JAVA_TOOL_OPTIONS": "-Xmx1g -XX:ActiveProcessorCount=3"},
            "java",
        )
        assert env == {} and applied[0].value == "3"
        env, _ = apply(derive("jvm", [1], {}), {"JAVA_TOOL_OPTIONS": "-Xmx1g"}, "java -jar x")
        assert env == {"JAVA_TOOL_OPTIONS": "-XX:ActiveProcessorCount=1 -Xmx1g"}


class TestErlangFlags:
    def test_parse_flags(self) -> None:
        """Attached and separate values; longer flags are not read as shorter ones."""
        words = [
            "+S",
            "4:4",
            "+sbtu",
            "+sbwtdcpu",
            "none",
            "+sbwt",
            "short",
            "+swt",
            "low",
            "-noshell",
            "+S",
            "2",
        ]
        assert erlang.parse_flags(words) == {
            "+S": "2",
            "+sbt": "u",
            "+sbwtdcpu": "none",
            "+sbwt": "short",
            "+swt": "low",
        }

    def test_precedence(self) -> None:
        """ERL_ZFLAGS > ERL_FLAGS > command line > ERL_AFLAGS, like erl itself."""
        env = {"ERL_AFLAGS": "+S 1", "ERL_FLAGS": "+S 3"}
        assert erlang.explicit("+S", env, ["+S", "2"]) == ("3", "ERL_FLAGS")
        assert erlang.explicit("+S", {"ERL_AFLAGS": "+S 1"}, ["+S", "2"]) == ("2", "command")
        assert erlang.explicit("+sbt", env, []) is None

    def test_schedulers(self) -> None:
        """+S values as (schedulers, online); relative forms are not checked."""
        assert erlang.schedulers("4:2") == (4, 2)
        assert erlang.schedulers("4") == (4, 4)
        assert erlang.schedulers(":2") == (None, 2)
        assert erlang.schedulers("-1") == (None, None)
