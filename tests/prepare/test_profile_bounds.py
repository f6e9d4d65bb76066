"""Profiles (playbooks) are bounded like jobs: counts, durations, finite numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError, SpecErrors
from perflab.limits import MAX_PROBE_REPETITIONS
from perflab.spec.playbook import parse_profile
from tests.cli.capped import run_capped

TASKS = "tasks:\n  - cpuset_shield: {cpus: reserved}\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_profile(text, "p.yml")
    exc = caught.value
    return [str(e) for e in exc.errors] if isinstance(exc, SpecErrors) else [str(exc)]


class TestProfileBounds:
    @pytest.mark.parametrize(
        ("text", "where", "message"),
        [
            (
                "verify: {repetitions: 1000000000000}\n",
                "p.yml:1:23: verify.repetitions",
                f"expected an integer >= 10 and <= {MAX_PROBE_REPETITIONS}",
            ),
            ("verify: {max_cv: .nan}\n", "p.yml:1:18: verify.max_cv", "got nan"),
            ("verify: {max_slowdown: .inf}\n", "p.yml:1:24: verify.max_slowdown", "got inf"),
            (
                "pin: {policy: 'fifo:10', realtime: {allow: true, limit: 0s}}\n",
                "p.yml:1:57: pin.realtime.limit",
                "expected a duration from 1ms to 30 days",
            ),
        ],
    )
    def test_refused(self, text: str, where: str, message: str) -> None:
        """Each is refused where it is written."""
        found = errors_of(text + TASKS)
        assert len(found) == 1 and found[0].startswith(where + ": ") and message in found[0], found


class TestVerifyCommand:
    def test_repetitions_bounded(self, tmp_path: Path) -> None:
        """verify --repetitions 1000000000000 is a usage error, not a probe of 58 days."""
        child = run_capped(
            "verify", "local", "--repetitions", "1000000000000", home=tmp_path / "home", timeout=30
        )
        assert child.status == 3, child.err
        assert f"10<=x<={MAX_PROBE_REPETITIONS}" in child.err


class TestTemplateBounds:
    def test_a_malformed_default_is_refused_where_it_is(self) -> None:
        """`{{ x | default([) }}` is a Jinja2 syntax error: exit 3 at the value."""
        text = 'tasks:\n  - freeze: {patterns: "{{ nope | default([) }}"}\n'
        with pytest.raises(InputError, match="bad template") as caught:
            parse_profile(text, "p.yml")
        assert "p.yml:2:24: tasks[0].freeze.patterns" in str(caught.value)

    @pytest.mark.parametrize(
        "bomb",
        [
            "{{ ['x' * 100000000] }}",
            "{{ ['x'] * 100000000 }}",
            "{{ 9 ** 99999999 }}",
            "{{ 'x'.ljust(100000000) }}",
            "{{ 'x' | center(100000000) }}",
            "{{ '%0100000000d' % 1 }}",
            "{{ ('x' * 1000000) | replace('', 'yyyyyyyyyy') }}",
            "{{ ['x' * 1000000] * 100 | join }}",
            "{% for i in range(100000) %}{{ 'x' * 1000000 }}{% endfor %}",
            "{{ lipsum(100000000) }}",
        ],
    )
    def test_a_template_bomb_is_refused_quickly(self, bomb: str) -> None:
        """A template that would build gigabytes or run for minutes is refused (exit 3)
        before it does: results are bounded like a YAML file's values, statements and
        unbounded helpers are not available."""
        import time

        from perflab.spec.playbook import task_args

        text = f'tasks:\n  - freeze: {{patterns: "{bomb}"}}\n'
        start = time.monotonic()
        with pytest.raises(InputError):
            profile = parse_profile(text, "p.yml")
            task_args(profile, profile.tasks[0], {})
        assert time.monotonic() - start < 5
