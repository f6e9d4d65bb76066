"""The variables perflab reads: the table, the checks, the README that documents them."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.inventory import CONNECTION_VARIABLES, PERFLAB_VARIABLES
from perflab.inventory.variables import boolean, check_variable, cpu_list, format_cpus, labels

REPO = Path(__file__).resolve().parents[2]


class TestCheckVariable:
    """check_variable(name, value): what is wrong for perflab, or None."""

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("perflab_isolated_cpus", "2-5,8"),
            ("perflab_isolated_cpus", 3),
            ("perflab_isolated_cpus", [2, 4]),
            ("perflab_housekeeping_cpus", "0"),
            ("perflab_platform", "linux-x86_64"),
            ("perflab_labels", ["a"]),
            ("perflab_labels", "a,b"),
            ("perflab_keep_tuned", "yes"),
            ("perflab_keep_tuned", False),
            ("ansible_port", 22),
            ("ansible_port", "22"),
            ("perflab_profile", None),
            ("some_other_var", "{{ anything }}"),
            ("ansible_connection", "local"),
            ("ansible_connection", "ssh"),
            ("ansible_connection", "paramiko"),
            ("ansible_become", "yes"),
            ("ansible_become", True),
            ("ansible_become_user", "bench"),
            ("ansible_become_method", "sudo"),
        ],
    )
    def test_accepted(self, name: str, value: object) -> None:
        """Values in any shape the inventory formats produce are accepted."""
        assert check_variable(name, value) is None

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("perflab_isolated_cpus", "2-", "expected a CPU list"),
            ("perflab_isolated_cpus", True, "expected a CPU list"),
            ("perflab_isolated_cpus", "", "expected a CPU list"),
            ("perflab_platfrom", "x", "did you mean 'perflab_platform'?"),
            ("ansible_port", 0, "from 1 to 65535"),
            ("ansible_port", True, "from 1 to 65535"),
            ("ansible_user", "", "non-empty string"),
            ("perflab_profile", "{% if x %}a{% endif %}", "Jinja template"),
            ("ansible_connection", "docker", "ansible_connection must be ssh or local"),
            ("ansible_become", "maybe", "ansible_become must be true or false"),
            (
                "ansible_become_method",
                "su",
                'must be sudo (perflab becomes another user with sudo only), got "su"',
            ),
            ("ansible_become_user", "", "non-empty string"),
        ],
    )
    def test_refused(self, name: str, value: object, message: str) -> None:
        """Wrong values are described with what was expected and what was found."""
        problem = check_variable(name, value)
        assert problem is not None and message in problem

    def test_helpers(self) -> None:
        """CPU lists, labels and booleans have one normal shape."""
        assert cpu_list("0-2, 5") == [0, 1, 2, 5] and cpu_list([4, 2]) == [2, 4]
        assert format_cpus([5, 0, 1, 2, 64]) == "0-2,5,64"
        assert labels("a, b,") == ["a", "b"] and labels(["x"]) == ["x"]
        assert boolean("On") is True and boolean(0) is False

    def test_readme_documents_every_variable(self) -> None:
        """inventories/README.md names every variable perflab reads."""
        readme = (REPO / "inventories" / "README.md").read_text()
        missing = [n for n in [*PERFLAB_VARIABLES, *CONNECTION_VARIABLES] if f"`{n}`" not in readme]
        assert missing == []
