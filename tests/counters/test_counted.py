"""Counted repetitions under the real callgrind: what is counted, and how compare reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.conftest import cli, home, write_job  # noqa: F401 (fixtures)
from tests.counters.conftest import loop_job, need


def _metrics(run: dict[str, Any], bench: str = "loop") -> dict[str, Any]:
    return next(b for b in run["benchmarks"] if b["name"] == bench)["metrics"]


def _run(cli, write_job, text: str, name: str = "job.yaml") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = cli("run", str(write_job(text, name)), "--json")
    assert result.status == 0, result.err
    run: dict[str, Any] = result.json()
    assert run["status"] == "completed", run["message"]
    return run


class TestCounted:
    def test_counts_repeat_and_are_marked(self, cli, write_job, loop_dir: Path) -> None:
        """Two counted repetitions count the same; the metrics say counted; the cache
        figures add up to estimated_cycles = Ir + 10 L1 + 100 LL."""
        need("valgrind")
        run = _run(
            cli,
            write_job,
            loop_job(loop_dir, counters="[instructions, cache]", extra="counting: {runs: 2}\n"),
        )
        metrics = _metrics(run)
        ins = metrics["instructions"]
        assert ins["counted"] is True and ins["unit"] == "instructions"
        assert ins["direction"] == "lower" and len(ins["samples"]) == 2
        assert ins["samples"][0] == ins["samples"][1] > 200_000 * 5
        l1, ll = metrics["l1_misses"]["samples"][0], metrics["ll_misses"]["samples"][0]
        assert metrics["estimated_cycles"]["samples"][0] == ins["samples"][0] + 10 * l1 + 100 * ll
        assert len(metrics["wall_time"]["samples"]) == 2  # the timed repetitions: their own
        kinds = [r["kind"] for r in run["repetitions"]]
        assert kinds.count("count") == 2 and kinds.count("run") == 2

    def test_the_wrapper_shell_is_not_counted(self, cli, write_job, loop_dir: Path) -> None:
        """A command written as a shell string counts the program, not /bin/sh; a second
        child process is counted too (--trace-children=yes)."""
        need("valgrind")
        plain = _metrics(_run(cli, write_job, loop_job(loop_dir), "a.yaml"))
        shell = _metrics(
            _run(cli, write_job, loop_job(loop_dir, command='"./loop 200000 && true"'), "b.yaml")
        )
        twice = _metrics(
            _run(
                cli,
                write_job,
                loop_job(loop_dir, command='"./loop 200000 && ./loop 200000"'),
                "c.yaml",
            )
        )
        one = plain["instructions"]["samples"][0]
        assert abs(shell["instructions"]["samples"][0] / one - 1) < 0.001
        assert abs(twice["instructions"]["samples"][0] / (2 * one) - 1) < 0.001

    def test_counting_has_its_own_timeout(self, cli, write_job, loop_dir: Path) -> None:
        """counting.timeout stops a counted repetition; the timed ones are not bound by it."""
        need("valgrind")
        path = write_job(
            loop_job(
                loop_dir,
                iterations=2_000_000_000,
                extra="counting: {timeout: 1s}\ntimeout: {repetition: 1m}\n"
                "repetitions: {warmup: 0, runs: 1}\n",
            ).replace("repetitions: {warmup: 0, runs: 2}\n", "")
        )
        result = cli("run", str(path), "--json")
        run = result.json()
        assert run["status"] == "failed"
        assert "loop count 1: timed out after 1 s" in run["message"]
        timed = next(r for r in run["repetitions"] if r["kind"] == "run")
        assert timed["timed_out"] is False and timed["exit_status"] == 0


class TestCompareCounted:
    def test_one_percent_more_work_is_regressed(self, cli, write_job, loop_dir: Path) -> None:
        """1% more iterations: regressed on instructions with one counted run per side; the
        same job again: same. Verdicts say counted."""
        need("valgrind")
        runs = [
            _run(cli, write_job, loop_job(loop_dir, iterations=n), f"{i}.yaml")["run_id"]
            for i, n in enumerate((200_000, 202_000, 200_000))
        ]
        worse = cli("compare", runs[0], runs[1], "--json")
        assert worse.status == 2, worse.err
        row = next(r for r in worse.json()["rows"] if r["metric"] == "instructions")
        assert row["verdict"] == "regressed" and row["test"] == "counted"
        assert row["reason"].startswith("counted: instructions +")
        assert 0.009 < row["change"] < 0.011
        row_change = row["change"]
        same = cli("compare", runs[0], runs[2], "--json")
        row = next(r for r in same.json()["rows"] if r["metric"] == "instructions")
        assert row["verdict"] == "same" and row["change"] == 0.0
        text = cli("compare", runs[0], runs[1])
        assert "time and counts" in text.out and "finding loop: instructions" in text.out
        markdown = cli("compare", runs[0], runs[1], "--format", "md").out
        assert "**Time and counts**" in markdown
        side = [line for line in markdown.splitlines() if " | instructions +" in line]
        assert len(side) == 1 and side[0].startswith("| `loop` | wall_time ")
        assert side[0].endswith(f" | instructions {row_change:+.2%} regressed |")
