"""runtime: auto recognises the programs a benchmark command starts."""

from __future__ import annotations

from perflab.pinning.detect import assignments, detect, programs


class TestPrograms:
    def test_wrappers_and_separators(self) -> None:
        """Wrappers, their options and assignments are skipped; ; && | start new commands."""
        text = "GOMAXPROCS=4 nice -n 5 erl -noshell; ./x.test -test.bench . && taskset -c 1 java"
        assert programs(text) == ["erl", "x.test", "java"]

    def test_argument_lists(self) -> None:
        """A list command is its own words."""
        assert programs(["/usr/bin/node", "bench.js"]) == ["node"]


class TestDetect:
    def test_runtimes_in_order(self) -> None:
        """Each runtime once, in order of appearance; unknown binaries give nothing."""
        assert detect(
            ["cd app && mix run bench.exs", ["./bench"], "go test -bench .", "escript x"]
        ) == ["erlang", "go"]
        assert detect(["./bench --mode go"]) == []

    def test_assignments(self) -> None:
        """NAME=value words are what the command sets itself."""
        assert assignments("GOMAXPROCS=4 OMP_NUM_THREADS=2 ./b x=1") == {
            "GOMAXPROCS": "4",
            "OMP_NUM_THREADS": "2",
        }
