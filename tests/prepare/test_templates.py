"""Templates in playbooks as Ansible users write them: Jinja2, sandboxed, strict.

Filters Ansible users reach for work (int, float, bool, default/d, join, lower, upper,
replace); an unknown filter, a syntax error or an undefined variable is bad input
(exit 3) at file:line:column of the playbook; a value that is one expression keeps its
type.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perflab.errors import InputError
from perflab.pinning.profile import resolved_pin
from perflab.spec.playbook import parse_profile, task_args


def args_of(
    task_yaml: str, host_vars: dict[str, Any] | None = None, playbook_vars: str = "{}"
) -> dict[str, Any]:
    """The resolved arguments of the playbook's only task."""
    profile = parse_profile(f"vars: {playbook_vars}\ntasks:\n  - {task_yaml}\n", "lab.yml")
    return task_args(profile, profile.tasks[0], host_vars or {})


def error_of(task_yaml: str, host_vars: dict[str, Any] | None = None) -> str:
    """The one-line message of the input error the task's templates give, at load or at
    resolution."""
    with pytest.raises(InputError) as caught:
        args_of(task_yaml, host_vars)
    assert caught.value.exit_status == 3
    return str(caught.value)


class TestFilters:
    def test_int_and_float(self) -> None:
        """`| int` used to pass through as the literal text "{{ x | int }}"."""
        assert args_of('swappiness: {value: "{{ swap | int }}"}', {"swap": "10"}) == {"value": 10}
        assert args_of(
            'sysctl: {name: vm.x, value: "{{ (ratio | float) * 4 | int }}"}', {"ratio": "2.5"}
        ) == {"name": "vm.x", "value": 10.0}

    def test_int_of_text_is_an_error_unless_a_default_is_given(self) -> None:
        """Jinja's int turns "abc" into 0 silently; here that is bad input, and an explicit
        default (`int(7)`) is what asks for a fallback."""
        message = error_of('swappiness: {value: "{{ swap | int }}"}', {"swap": "abc"})
        assert 'int: expected a number, got "abc"' in message
        assert args_of('swappiness: {value: "{{ swap | int(7) }}"}', {"swap": "abc"}) == {
            "value": 7
        }

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("yes", True),
            ("on", True),
            ("1", True),
            ("true", True),
            ("True", True),
            ("YES", True),
            (1, True),
            (True, True),
            ("no", False),
            ("off", False),
            ("0", False),
            ("false", False),
            ("False", False),
            (0, False),
            (False, False),
        ],
    )
    def test_bool_as_ansible_reads_it(self, value: Any, expected: bool) -> None:
        """`| bool` gives what Ansible's bool filter gives (checked against ansible-core)."""
        from ansible.plugins.filter.core import to_bool

        assert to_bool(value) is expected
        assert args_of('turbo: {enabled: "{{ turbo | bool }}"}', {"turbo": value}) == {
            "enabled": expected
        }

    @pytest.mark.parametrize("value", ["maybe", "y", " yes", 2, None])
    def test_bool_of_anything_else_is_an_error(self, value: Any) -> None:
        """Ansible coerces other values to False with a deprecation (an error from 2.23):
        perflab refuses them now."""
        message = error_of('turbo: {enabled: "{{ turbo | bool }}"}', {"turbo": value})
        assert "bool: expected yes/no, on/off, true/false or 1/0, got" in message

    def test_text_filters(self) -> None:
        """join, lower, upper, replace, and default with its alias d."""
        assert args_of(
            "cpuset_shield: {cpus: \"{{ cpus | join(',') }}\"}", {"cpus": [2, 3, 5]}
        ) == {"cpus": "2,3,5"}
        assert args_of(
            "sysctl: {name: \"vm.{{ knob | lower | replace('-', '_') }}\", "
            'value: "{{ v | upper }}"}',
            {"knob": "Dirty-Ratio", "v": "a b"},
        ) == {"name": "vm.dirty_ratio", "value": "A B"}
        assert args_of('swappiness: {value: "{{ nope | d(3) }}"}') == {"value": 3}
        assert args_of('swappiness: {value: "{{ nope | default(4) }}"}') == {"value": 4}


class TestTypes:
    def test_one_expression_keeps_its_type(self) -> None:
        """A list stays a list, a number a number (Ansible's native types); text around an
        expression makes text."""
        assert args_of('freeze: {patterns: "{{ pats }}"}', {"pats": ["a*", "b"]}) == {
            "patterns": ["a*", "b"]
        }
        assert args_of("freeze: {patterns: \"{{ pats + ['c'] }}\"}", {"pats": ["a*"]}) == {
            "patterns": ["a*", "c"]
        }
        assert args_of('swappiness: {value: "{{ 5 }}"}') == {"value": 5}
        assert args_of('sysctl: {name: vm.x, value: "{{ a }} {{ b }}"}', {"a": 4, "b": 1}) == {
            "name": "vm.x",
            "value": "4 1",
        }

    def test_default_none_leaves_the_argument_out(self) -> None:
        """`default(none)` (and Jinja's `None`) unsets the argument, as before."""
        task = 'freeze: {patterns: [a], cpu_above: "{{ above | default(none) }}"}'
        assert args_of(task) == {"patterns": ["a"]}
        assert args_of(task, {"above": 40}) == {"patterns": ["a"], "cpu_above": 40}

    def test_host_vars_win_over_playbook_vars(self) -> None:
        """Inventory variables override the playbook's vars inside expressions too."""
        task = 'swappiness: {value: "{{ swap | int + 1 }}"}'
        assert args_of(task, playbook_vars="{swap: 1}") == {"value": 2}
        assert args_of(task, {"swap": 9}, playbook_vars="{swap: 1}") == {"value": 10}


class TestErrors:
    def test_unknown_filter_at_load(self) -> None:
        """An unknown filter is found when the playbook is read (validate, prepare --check),
        at the value's file:line:column, with the closest known filter."""
        with pytest.raises(InputError) as caught:
            parse_profile(
                'tasks:\n  - name: s\n    swappiness: {value: "{{ x | itn }}"}\n', "lab.yml"
            )
        message = str(caught.value)
        assert message.startswith(
            'lab.yml:3:25: tasks[0].swappiness.value: unknown filter "itn" in "{{ x | itn }}"'
        ), message
        assert 'did you mean "int"?' in message

    def test_syntax_error_at_load(self) -> None:
        """A broken expression: where, and Jinja's reason."""
        with pytest.raises(InputError) as caught:
            parse_profile('tasks:\n  - swappiness: {value: "{{ x | }}"}\n', "lab.yml")
        assert str(caught.value).startswith(
            'lab.yml:2:25: tasks[0].swappiness.value: bad template "{{ x | }}": '
        )

    def test_every_bad_template_is_reported(self) -> None:
        """Each broken value is one error line, in the file's order."""
        with pytest.raises(InputError) as caught:
            parse_profile(
                'tasks:\n  - swappiness: {value: "{{ x | nope }}"}\n'
                '  - aslr: {value: "{{ y | zap }}"}\n',
                "lab.yml",
            )
        lines = str(caught.value).splitlines()
        assert [line.split(": ")[0] for line in lines] == ["lab.yml:2:25", "lab.yml:3:19"]

    def test_undefined_variable_inside_an_expression(self) -> None:
        """An undefined variable, even under a filter, names itself and where it is used."""
        message = error_of('swappiness: {value: "{{ swap | int }}"}')
        assert message.startswith(
            'lab.yml:3:25: tasks[0].swappiness.value: variable "swap" '
            "is not defined for this runner"
        )

    def test_undefined_variable_inside_text(self) -> None:
        """Inside text too (it used to need a variable alone between the braces)."""
        message = error_of('sysctl: {name: "vm.{{ knob | lower }}", value: 1}')
        assert message.startswith('lab.yml:3:20: tasks[0].sysctl.name: variable "knob"')

    def test_the_sandbox_holds(self) -> None:
        """Templates cannot reach Python's internals: bad input, nothing run."""
        message = error_of("sysctl: {name: vm.x, value: \"{{ ''.__class__.__mro__ }}\"}")
        assert "lab.yml:3:" in message and "unsafe" in message

    def test_pin_defaults_use_the_same_templates(self) -> None:
        """A profile's `pin` values are templated alike, with the same errors."""
        profile = parse_profile('pin:\n  nice: "{{ nice | int }}"\ntasks: []\n', "p.yml")
        assert resolved_pin(profile, {"nice": "-5"}) == {"nice": -5}
        with pytest.raises(InputError, match=r'^p.yml:2:9: pin.nice: variable "nice"'):
            resolved_pin(profile, {})


class TestCost:
    def test_no_jinja_without_a_template(self, tmp_path: Path) -> None:
        """A playbook without templates is read without importing Jinja2; one with a
        template imports it (validate and prepare stay fast when there is none)."""
        plain = tmp_path / "plain.yml"
        plain.write_text("tasks:\n  - swappiness: {value: 10}\n")
        templated = tmp_path / "templated.yml"
        templated.write_text('tasks:\n  - swappiness: {value: "{{ s | int }}"}\n')
        code = (
            "import sys; from perflab.spec.playbook import load_profile, task_args; "
            "p = load_profile(sys.argv[1]); "
            "task_args(p, p.tasks[0], {'s': '1'}); print('jinja2' in sys.modules)"
        )
        for path, imported in ((plain, "False"), (templated, "True")):
            out = subprocess.run(
                [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
            ).stdout.strip()
            assert out == imported, path.name


class TestValidateCommand:
    def test_validate_reports_an_unknown_filter(self, tmp_path: Path) -> None:
        """`perflab validate` exits 3 with the file:line:col line."""
        import io

        from perflab.cli.env import Env
        from perflab.cli.main import run_cli

        bad = tmp_path / "bad.yml"
        bad.write_text('tasks:\n  - swappiness: {value: "{{ x | to_nice_yaml }}"}\n')
        env = Env(stdout=io.StringIO(), stderr=io.StringIO())
        assert run_cli(["validate", str(bad)], env) == 3
        err = env.stderr.getvalue()  # type: ignore[attr-defined]
        assert f'{bad}:2:25: tasks[0].swappiness.value: unknown filter "to_nice_yaml"' in err
