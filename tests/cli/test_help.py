"""Help that helps: every command and option explained, examples on the main commands,
and an empty list that says so."""

from __future__ import annotations

import io
import shlex
from collections.abc import Iterator

import click
import pytest

from perflab.cli.env import Env
from perflab.cli.main import cli as perflab_cli
from perflab.cli.main import run_cli

MAIN_COMMANDS = [["run"], ["compare"], ["runner", "add"], ["prepare"]]


def walk(
    command: click.Command, path: tuple[str, ...] = ("perflab",)
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree, groups included, with its path (perflab runner add)."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from walk(sub, (*path, name))


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The --help text (click writes it to sys.stdout itself)."""
    env = Env(stdout=io.StringIO(), stderr=io.StringIO())
    capsys.readouterr()
    assert run_cli([*argv, "--help"], env) == 0, env.stderr.getvalue()  # type: ignore[attr-defined]
    return capsys.readouterr().out


def examples(text: str) -> list[str]:
    """The example command lines that end a --help text."""
    assert "Examples:" in text, text
    tail = text.rsplit("Examples:", 1)[1]
    return [line.strip() for line in tail.splitlines() if line.strip()]


class TestEveryOptionHasHelp:
    def test_the_walk_sees_the_tree(self) -> None:
        """The walk reaches nested commands (so the next test covers them)."""
        paths = {" ".join(p) for p, _ in walk(perflab_cli)}
        assert {"perflab run", "perflab runner add", "perflab baseline waive"} <= paths

    def test_no_option_without_help(self) -> None:
        """Every option of every command says what it does; every command too."""
        missing = []
        for path, command in walk(perflab_cli):
            if not (command.help or command.short_help):
                missing.append(" ".join(path))
            for param in command.params:
                if isinstance(param, click.Option) and not (param.help or "").strip():
                    missing.append(f"{' '.join(path)} {param.opts[0]}")
        assert missing == []


class TestExamples:
    @pytest.mark.parametrize("argv", MAIN_COMMANDS, ids=" ".join)
    def test_main_commands_end_with_examples(self, capsys, argv: list[str]) -> None:
        """`--help` of run, compare, runner add and prepare ends with two or three examples,
        each a perflab command line of that command."""
        found = examples(help_of(capsys, *argv))
        assert 2 <= len(found) <= 3
        for line in found:
            assert line.startswith(f"perflab {' '.join(argv)} "), line

    @pytest.mark.parametrize("argv", MAIN_COMMANDS, ids=" ".join)
    def test_the_examples_use_real_options(self, capsys, argv: list[str]) -> None:
        """Each example parses as the command's arguments (no option that does not exist,
        no value missing, no bad choice), without running it."""
        command = dict(walk(perflab_cli))[("perflab", *argv)]
        for line in examples(help_of(capsys, *argv)):
            words = shlex.split(line)[1 + len(argv) :]
            command.make_context(" ".join(argv), words)  # raises click.UsageError if not


class TestEmptyLists:
    def test_no_runs(self, cli) -> None:
        """`results list` on an empty store says so (not an empty table)."""
        result = cli("results", "list")
        assert result.status == 0
        assert result.out.startswith("no runs stored yet")
        assert "┏" not in result.out
        assert cli("results", "list", "--json").json() == {"runs": []}

    def test_no_runs_match(self, cli) -> None:
        """With a filter, it says that nothing matched."""
        assert cli("results", "list", "--job", "nope").out.startswith("no runs match")

    def test_no_baselines_and_no_waivers(self, cli) -> None:
        """`baseline list` and `baseline waivers` say there are none."""
        assert cli("baseline", "list").out.startswith("no baselines set")
        assert cli("baseline", "waivers").out.startswith("no active waivers")
        assert cli("baseline", "history", "nightly").out.startswith(
            'no baseline "nightly" was ever set'
        )

    def test_runner_list_with_only_local(self, cli) -> None:
        """Only the built-in runner: the table shows it and says how to register others."""
        out = cli("runner", "list").out
        assert "(this machine)" in out
        assert "no runner registered yet" in out and "perflab runner import" in out

    def test_runner_list_nothing_matches(self, cli) -> None:
        """A filter that matches no runner says so."""
        out = cli("runner", "list", "--group", "gpu").out
        assert out.startswith("no runner matches") and "┏" not in out
