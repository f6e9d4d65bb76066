"""Paths in a job stay inside its workdir: refused at `validate`, with the field."""

from __future__ import annotations

import pytest

from perflab.errors import InputError, SpecErrors
from perflab.spec.job import parse_job

HEAD = "name: t\nbenchmarks:\n  - name: a\n    command: [x]\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_job(text, "j.yaml")
    assert caught.value.exit_status == 3
    exc = caught.value
    return [str(e) for e in exc.errors] if isinstance(exc, SpecErrors) else [str(exc)]


class TestOutput:
    @pytest.mark.parametrize(
        "name",
        [
            "../../etc/passwd",
            "/etc/passwd",
            "~/result.json",
            "out/../../x",
            "..",
            ".",
            "./",
            "./.",
            "a/..//..",
        ],
    )
    def test_outside_the_workdir(self, name: str) -> None:
        """The output is deleted before each repetition: it must name something inside."""
        found = errors_of(HEAD + f"    output: '{name}'\n")
        assert len(found) == 1 and found[0].startswith(
            "j.yaml:5:13: benchmarks[0].output: expected a file in the workdir"
        ), found

    @pytest.mark.parametrize(
        "name", ["stdout", "out.json", "target/criterion", "./o.json", "a..b/c", "..x", "x/y"]
    )
    def test_inside(self, name: str) -> None:
        """Ordinary names, dots inside names included, are fine."""
        job = parse_job(HEAD + f"    output: '{name}'\n", "j.yaml")
        assert job.benchmarks[0].output == (None if name == "stdout" else name)


class TestArtifacts:
    @pytest.mark.parametrize("pattern", ["~/profiles/*.svg", "~root/.ssh/*"])
    def test_home_is_refused_at_validate(self, pattern: str) -> None:
        """A glob starting with ~ is refused when the job is validated, not at run time."""
        found = errors_of(HEAD + f"artifacts: ['{pattern}']\n")
        assert found == [
            f"j.yaml:5:13: artifacts[0]: expected a glob relative to the workdir "
            f"(not absolute, not starting with ~, no '..'), got \"{pattern}\""
        ]


class TestEscapedNul:
    @pytest.mark.parametrize(
        ("text", "where"),
        [
            ('name: t\nbenchmarks:\n  - name: a\n    command: ["a\\0b"]\n', "j.yaml:4:15"),
            (
                'name: t\nbenchmarks:\n  - {name: a, command: [x], output: "o\\x00"}\n',
                "j.yaml:3:37",
            ),
            ('name: t\nenv: {X: "\\0"}\nbenchmarks:\n  - {name: a, command: [x]}\n', "j.yaml:2:10"),
        ],
    )
    def test_nul_written_as_an_escape(self, text: str, where: str) -> None:
        """A NUL written as "\\0" in a quoted string is refused where it is written."""
        found = errors_of(text)
        assert (
            len(found) == 1 and found[0].startswith(where + ": ") and "a NUL character" in found[0]
        ), found
