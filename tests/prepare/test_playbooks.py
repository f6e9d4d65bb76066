"""Playbooks: the shipped profiles, the generated schema, errors with file:line:col."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perflab.errors import InputError, SpecErrors
from perflab.knobs.schema import playbook_schema
from perflab.spec.playbook import find_profile, load_profile, parse_profile, task_args

REPO = Path(__file__).resolve().parents[2]


def errors(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_profile(text, "lab.yml")
    exc = caught.value
    return [str(e) for e in exc.errors] if isinstance(exc, SpecErrors) else [str(exc)]


class TestShippedProfiles:
    @pytest.mark.parametrize("name", ["shield", "bare-metal", "laptop"])
    def test_they_load_by_name(self, name: str) -> None:
        """`--profile shield` finds playbooks/shield.yml; every shipped profile is valid."""
        profile = load_profile(name)
        assert profile.name == name and profile.tasks
        assert profile.verify["max_involuntary_per_s"] > 0

    def test_schema_file_is_generated_from_the_knobs(self) -> None:
        """schemas/playbook.schema.json is what `python -m perflab.knobs.schema` prints."""
        committed = json.loads((REPO / "schemas" / "playbook.schema.json").read_text())
        assert committed == playbook_schema(), (
            "regenerate: python -m perflab.knobs.schema > schemas/playbook.schema.json"
        )

    def test_unknown_profile_suggests(self) -> None:
        """A misspelt profile name: exit 3 with the closest shipped one."""
        with pytest.raises(InputError, match='did you mean "shield"'):
            find_profile("sheild")


class TestErrors:
    def test_unknown_knob(self) -> None:
        """A knob that does not exist: the key, a suggestion, file:line:col."""
        [message] = errors("tasks:\n  - name: x\n    cpuset_sheild: {cpus: reserved}\n")
        assert message.startswith("lab.yml:3:5: tasks[0].cpuset_sheild: unknown key")
        assert 'did you mean "cpuset_shield"?' in message

    def test_bad_argument(self) -> None:
        """A wrong argument value says what was expected."""
        [message] = errors("tasks:\n  - aslr: {value: 7}\n")
        assert message.startswith("lab.yml:2:19: tasks[0].aslr.value: expected")

    def test_two_knobs_in_one_task(self) -> None:
        """One task, one knob."""
        [message] = errors("tasks:\n  - aslr: {value: 0}\n    swappiness: {value: 1}\n")
        assert "expected exactly one knob per task, got aslr and swappiness" in message

    def test_not_a_playbook(self) -> None:
        """A scalar is not a playbook."""
        [message] = errors("just text\n")
        assert "expected a playbook" in message


class TestVariables:
    PROFILE = (
        "name: v\nvars: {perflab_isolated_cpus: '2-3'}\ntasks:\n"
        "  - cpuset_shield: {cpus: \"{{ perflab_isolated_cpus | default('reserved') }}\"}\n"
        '  - freeze: {patterns: [a], cpu_above: "{{ perflab_freeze_cpu_above | default(none) }}"}\n'
        '  - swappiness: {value: "{{ perflab_swappiness }}"}\n'
    )

    def test_host_vars_override_playbook_vars(self) -> None:
        """Inventory variables win over the playbook's; defaults apply when neither is set."""
        profile = parse_profile(self.PROFILE, "v.yml")
        shield, freeze, _ = profile.tasks
        assert task_args(profile, shield, {}) == {"cpus": "2-3"}
        assert task_args(profile, shield, {"perflab_isolated_cpus": "1"}) == {"cpus": "1"}
        assert task_args(profile, freeze, {}) == {"patterns": ["a"]}, "default(none) unsets"
        assert task_args(profile, freeze, {"perflab_freeze_cpu_above": 40})["cpu_above"] == 40

    def test_undefined_variable_is_bad_input(self) -> None:
        """A variable with no value and no default names itself and where it is used."""
        profile = parse_profile(self.PROFILE, "v.yml")
        with pytest.raises(
            InputError, match='variable "perflab_swappiness" is not defined'
        ) as caught:
            task_args(profile, profile.tasks[2], {})
        assert str(caught.value).startswith("v.yml:6:")


class TestValidateCommand:
    def test_validate_playbooks(self, tmp_path: Path) -> None:
        """`perflab validate` tells playbooks from jobs and inventories."""
        import io

        from perflab.cli.env import Env
        from perflab.cli.main import run_cli

        bad = tmp_path / "bad.yml"
        bad.write_text("tasks:\n  - smt: {enabled: maybe}\n")
        env = Env(stdout=io.StringIO(), stderr=io.StringIO())
        status = run_cli(["validate", "playbooks/shield.yml", str(bad)], env)
        assert status == 3
        assert "playbooks/shield.yml: ok (playbook)" in env.stdout.getvalue()  # type: ignore[attr-defined]
        assert "bad.yml:2:20: tasks[0].smt.enabled: expected" in env.stderr.getvalue()  # type: ignore[attr-defined]
