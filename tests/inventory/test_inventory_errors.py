"""validate_inventory and load_inventory on bad input: every problem, with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import ExitStatus, InputError, SpecErrors
from perflab.inventory import load_inventory, validate_inventory
from perflab.limits import MAX_GROUP_DEPTH, MAX_LINK_CHECKS

REPO = Path(__file__).resolve().parents[2]


def problems(tmp_path: Path, name: str, text: str) -> list[str]:
    """validate_inventory's messages for one file, locations made relative."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return [str(e).replace(f"{tmp_path}/", "") for e in validate_inventory(path)]


class TestValidateInventory:
    """validate_inventory(path) lists every problem and raises for none of them."""

    def test_valid_inventories_have_no_problem(self) -> None:
        """The shipped labs validate clean."""
        assert validate_inventory(REPO / "inventories" / "lab" / "hosts.yml") == []
        assert validate_inventory(REPO / "inventories" / "lab.ini") == []

    def test_cycle_ini(self, tmp_path: Path) -> None:
        """A cycle through three groups is named in full, at the line that closes it."""
        found = problems(tmp_path, "h.ini", "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n")
        assert found == [
            "h.ini:6:1: cycle in children: c -> a -> b -> c (a group cannot "
            "contain itself, directly or through its children)"
        ]

    def test_cycle_yaml(self, tmp_path: Path) -> None:
        """A YAML cycle points at the child key that closes it."""
        found = problems(
            tmp_path, "h.yml", "a:\n  children:\n    b:\n      children:\n        a:\n"
        )
        assert len(found) == 1
        assert found[0].startswith("h.yml:3:5: cycle in children: a -> b -> a")

    def test_groups_nested_too_deep(self, tmp_path: Path) -> None:
        """A chain of 3,000 child groups is refused at the first group too deep (it used to
        end in a RecursionError); a chain of MAX_GROUP_DEPTH levels is fine."""
        lines = ["[g0]", "h0"]
        for i in range(3000):
            lines += [f"[g{i}:children]", f"g{i + 1}"]
        found = problems(tmp_path, "h.ini", "\n".join([*lines, "[g3000]", "h1"]) + "\n")
        assert found == [
            f"h.ini:103:1: expected groups nested at most {MAX_GROUP_DEPTH} levels "
            "below all, got 3001 (g50 is the first group too deep)"
        ]
        fine = tmp_path / "fine.ini"
        last = f"g{MAX_GROUP_DEPTH - 1}"
        fine.write_text("\n".join([*lines[: 2 + 2 * (MAX_GROUP_DEPTH - 1)], f"[{last}]", "h1"]))
        assert load_inventory(fine).groups[last].depth == MAX_GROUP_DEPTH

    def test_links_too_costly_to_check(self, tmp_path: Path) -> None:
        """A chain written bottom-up makes every new link search all the groups below it;
        past MAX_LINK_CHECKS steps the inventory is refused instead of taking minutes."""
        lines = []
        for i in reversed(range(2100)):
            lines += [f"[g{i}:children]", f"g{i + 1}"]
        found = problems(tmp_path, "h.ini", "\n".join([*lines, "[g2100]", "h1"]) + "\n")
        assert (
            f"h.ini:4006:1: expected child links that take at most {MAX_LINK_CHECKS} steps "
            "to check for cycles, got more" in found[-1]
        )

    def test_group_is_its_own_child(self, tmp_path: Path) -> None:
        """The shortest cycle: a -> a."""
        found = problems(tmp_path, "h.ini", "[a:children]\na\n")
        assert found[0].startswith("h.ini:2:1: cycle in children: a -> a")

    def test_cycle_through_all(self, tmp_path: Path) -> None:
        """Putting 'all' under another group is a cycle too."""
        found = problems(tmp_path, "h.yml", "g:\n  children:\n    all:\n")
        assert any("cycle in children: all -> g -> all" in f for f in found)

    def test_host_and_group_share_a_name(self, tmp_path: Path) -> None:
        """A name that is a host and a group is refused (Ansible warns, then mixes them)."""
        found = problems(tmp_path, "h.yml", "g1:\n  hosts:\n    b:\nb:\n  hosts:\n    h1:\n")
        assert found == [
            "h.yml:3:5: 'b' is both a host and a group (the group is defined at "
            "h.yml:4:1); Ansible warns, then mixes up their variables: rename "
            "one of them"
        ]

    def test_ini_child_that_is_a_host(self, tmp_path: Path) -> None:
        """Listing a host under [g:children] says it is a host (Ansible: undefined group)."""
        found = problems(tmp_path, "h.ini", "[web]\nh1\n[p:children]\nh1\n")
        assert found == [
            "h.ini:4:1: [p:children] lists 'h1', which is a host, not a group: list hosts under [p]"
        ]

    @pytest.mark.parametrize(
        ("pattern", "message"),
        [
            ("web-[01:100]", "'01' and '100' must have the same width"),
            ("web-[5:1]", "is empty: its beginning comes after its end"),
            ("web-[1:3", "unbalanced brackets in host pattern 'web-[1:3'"),
            ("web-[a:5]", "must run between two numbers or two letters"),
            ("web-[1:]", "has no end"),
            ("web-[1:9:0]", "needs a step of 1 or more, got '0'"),
            ("web-[1:9:x]", "needs a step of 1 or more, got 'x'"),
            ("web-[7]", "must be [begin:end] or [begin:end:step]"),
            ("web-[ab:cd]", "must run between two numbers or two letters"),
        ],
    )
    def test_malformed_range(self, tmp_path: Path, pattern: str, message: str) -> None:
        """Each malformed range is reported at its line, in INI and in YAML."""
        ini = problems(tmp_path, "h.ini", f"[web]\nok-01\n{pattern} x=1\n")
        yml = problems(tmp_path, "h.yml", f"web:\n  hosts:\n    ok-01:\n    '{pattern}':\n")
        assert len(ini) == 1 and ini[0].startswith("h.ini:3:1: ") and message in ini[0]
        assert len(yml) == 1 and yml[0].startswith("h.yml:4:5: ") and message in yml[0]

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("web-01 novalue", "h.ini:2:8: expected key=value after the host name, got 'novalue'"),
            ("web-01 x='open", "h.ini:2:1: cannot read this host line: No closing quotation"),
            (
                "web-01:",
                "h.ini:2:1: host pattern 'web-01:' ends in ':' (a ':' is followed by a "
                "port number)",
            ),
            ("---", "h.ini:2:1: a '---' line is YAML: name the file .yml or .yaml"),
            ('"" x=1', "h.ini:2:1: a host name cannot be empty"),
        ],
    )
    def test_unparsable_host_line(self, tmp_path: Path, line: str, message: str) -> None:
        """A host line that cannot be read is reported with its line and column."""
        assert problems(tmp_path, "h.ini", f"[web]\n{line}\n") == [message]

    def test_vars_for_unknown_group(self, tmp_path: Path) -> None:
        """[g:vars] needs [g] or [g:children] somewhere; a child listing does not count."""
        found = problems(tmp_path, "h.ini", "[web]\nw1\n[nope:vars]\nx=1\n")
        assert found == [
            "h.ini:3:1: section [nope:vars] is for a group 'nope' that is never "
            "defined (no [nope] or [nope:children] section)"
        ]

    def test_vars_before_group_is_fine(self, tmp_path: Path) -> None:
        """[g:vars] before [g] is accepted, as in Ansible."""
        assert problems(tmp_path, "h.ini", "[web:vars]\nx=1\n[web]\nw1\n") == []

    def test_undefined_child(self, tmp_path: Path) -> None:
        """A child group that is never defined is named, with a suggestion."""
        found = problems(tmp_path, "h.ini", "[linux_x86]\nh1\n[nightly:children]\nlinux_x68\n")
        assert found == [
            "h.ini:4:1: [nightly:children] lists 'linux_x68', which is not "
            "defined as a group (no [linux_x68] or [linux_x68:children] section) "
            "(did you mean 'linux_x86'?)"
        ]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "- a\n- b\n",
                "h.yml:1:1: a YAML inventory is a mapping of group names to groups, got a list",
            ),
            (
                "just text\n",
                "h.yml:1:1: a YAML inventory is a mapping of group names to groups, "
                'got "just text"',
            ),
            (
                "web: [a, b]\n",
                "h.yml:1:6: group 'web' must be a mapping with hosts, children or "
                "vars (or empty), got a list",
            ),
            (
                "web:\n  hosts: [a, b]\n",
                "h.yml:2:10: 'hosts' of group 'web' must be a mapping, got a list",
            ),
            (
                "web:\n  hosts:\n    a: 5\n",
                "h.yml:3:8: the variables of host 'a' must be a mapping, got 5",
            ),
            (
                "web:\n  vars: [x]\n",
                "h.yml:2:9: 'vars' of group 'web' must be a mapping, got a list",
            ),
            ("web:\n  hosts:\n    5:\n", "h.yml:3:5: a host pattern must be a string, got 5"),
            (
                "plugin: aws_ec2\n",
                "h.yml:1:1: this is the configuration of the inventory plugin "
                "'aws_ec2', not an inventory; perflab reads static YAML and INI "
                "inventories only",
            ),
        ],
    )
    def test_yaml_that_is_not_a_mapping(self, tmp_path: Path, text: str, message: str) -> None:
        """Every level of a YAML inventory must be a mapping where Ansible needs one."""
        assert problems(tmp_path, "h.yml", text) == [message]

    @pytest.mark.parametrize(
        ("key", "guess"),
        [
            ("host", " (did you mean 'hosts'?)"),
            ("child", " (did you mean 'children'?)"),
            ("var", " (did you mean 'vars'?)"),
            ("members", ""),
        ],
    )
    def test_unknown_group_key(self, tmp_path: Path, key: str, guess: str) -> None:
        """A group has only hosts, children and vars; a near miss gets a suggestion."""
        found = problems(tmp_path, "h.yml", f"web:\n  {key}:\n    a:\n")
        assert found == [
            f"h.yml:2:3: unknown key '{key}' in group 'web': a group has only "
            f"hosts, children and vars{guess}"
        ]

    def test_unknown_ini_section_type(self, tmp_path: Path) -> None:
        """[g:child] is not a section type; the lines under it are skipped, not misread."""
        found = problems(tmp_path, "h.ini", "[web:child]\nzz\nyy\n")
        assert found == [
            "h.ini:1:1: section [web:child] has an unknown type 'child': use "
            "[web], [web:children] or [web:vars] (did you mean 'children'?)"
        ]

    def test_bad_section_header(self, tmp_path: Path) -> None:
        """A header with a space in it is an error, not a group."""
        found = problems(tmp_path, "h.ini", "[web servers]\nw1\n")
        assert found == [
            "h.ini:1:1: invalid section header [web servers]: write [group], "
            "[group:children] or [group:vars], without spaces"
        ]

    def test_bad_children_and_vars_lines(self, tmp_path: Path) -> None:
        """A :children line holds one name; a :vars line is key=value."""
        found = problems(
            tmp_path, "h.ini", "[a]\nh\n[b]\ng\n[p:children]\na b\n[p:vars]\njust-a-word\n"
        )
        assert found == [
            "h.ini:6:1: expected one group name per line in [p:children], got 'a b'",
            "h.ini:8:1: expected key=value in [p:vars], got 'just-a-word'",
        ]

    def test_group_priority_must_be_an_integer(self, tmp_path: Path) -> None:
        """ansible_group_priority that is not a number is refused (Ansible fails too)."""
        found = problems(tmp_path, "h.yml", "web:\n  vars:\n    ansible_group_priority: high\n")
        assert found == [
            "h.yml:3:5: ansible_group_priority: ansible_group_priority of group "
            "'web' must be an integer, got 'high'"
        ]

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            (
                "perflab_isolated_cpu: 2-7",
                "unknown perflab variable 'perflab_isolated_cpu' "
                "(did you mean 'perflab_isolated_cpus'?)",
            ),
            (
                "perflab_isolated_cpus: two",
                'perflab_isolated_cpus: expected a CPU list like "2-5,8", got "two"',
            ),
            ("perflab_isolated_cpus: 7-2", "perflab_isolated_cpus: range 7-2 runs backwards"),
            ("perflab_platform: ''", 'perflab_platform must be a non-empty string, got ""'),
            ("perflab_keep_tuned: maybe", "perflab_keep_tuned must be true or false"),
            ("perflab_labels: {a: 1}", "perflab_labels must be a list of strings"),
            ("ansible_port: 70000", "ansible_port must be a port number from 1 to 65535"),
            ("ansible_port: '{{ p }}'", "ansible_port is a Jinja template"),
            ("ansible_host: [a]", "ansible_host must be a non-empty string"),
            ("perflab_connect_timeout: .nan", "perflab_connect_timeout: expected a finite number"),
            ("perflab_keepalive: .inf", "perflab_keepalive: expected a finite number, got inf"),
            ("perflab_freeze_cpu_above: -.inf", "expected a finite number, got -inf"),
        ],
    )
    def test_variables_perflab_reads(self, tmp_path: Path, line: str, message: str) -> None:
        """perflab checks the variables it reads where they are written."""
        found = problems(tmp_path, "h.yml", f"web:\n  hosts:\n    w1:\n      {line}\n")
        assert len(found) == 1 and found[0].startswith("h.yml:4:7: ")
        assert message in found[0]

    def test_other_variables_are_left_alone(self, tmp_path: Path) -> None:
        """Variables perflab does not read may hold anything, templates included."""
        text = "web:\n  vars:\n    x: '{{ y }}'\n    anything: [1, {a: 2}]\n  hosts:\n    w:\n"
        assert problems(tmp_path, "h.yml", text) == []

    def test_vars_file_problems(self, tmp_path: Path) -> None:
        """A vars file that is not a mapping, or bad YAML, or a typo'd variable, is reported."""
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "web.yml").write_text("- a\n")
        (tmp_path / "group_vars" / "all.yml").write_text("a: [\n")
        (tmp_path / "host_vars").mkdir()
        (tmp_path / "host_vars" / "w1.yml").write_text("x: 1\nperflab_profil: p\n")
        found = problems(tmp_path, "h.yml", "web:\n  hosts:\n    w1:\n")
        assert found[0].startswith("group_vars/all.yml:2:1: invalid YAML")
        assert found[1:] == [
            "group_vars/web.yml:1:1: a variables file must be a mapping of variable names to "
            "values, got a list",
            "host_vars/w1.yml:2:1: unknown perflab variable 'perflab_profil' "
            "(did you mean 'perflab_profile'?)",
        ]

    def test_vault_file(self, tmp_path: Path) -> None:
        """An ansible-vault file is named as such."""
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "web.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
        found = problems(tmp_path, "h.yml", "web:\n  hosts:\n    w1:\n")
        assert found == [
            "group_vars/web.yml: this file is encrypted with ansible-vault, which "
            "perflab cannot read"
        ]

    def test_files_that_are_not_inventories(self, tmp_path: Path) -> None:
        """A missing path, an empty directory and a TOML inventory are errors."""
        (tmp_path / "empty").mkdir()
        assert problems(tmp_path, "x.toml", "[web]\n") == [
            "x.toml: TOML inventories are not supported: use YAML or INI"
        ]
        assert [str(e) for e in validate_inventory(tmp_path / "empty")] == [
            f"{tmp_path}/empty: this directory holds no inventory file"
        ]
        assert [str(e) for e in validate_inventory(tmp_path / "missing.yml")] == [
            f"{tmp_path}/missing.yml: no such file or directory"
        ]

    def test_all_problems_at_once_in_file_order(self, tmp_path: Path) -> None:
        """One pass finds every problem; they come sorted by place."""
        found = problems(
            tmp_path,
            "h.ini",
            "[web]\nweb-[1:0]\nok\n[g:children]\nmissing\n[web:vars]\nnovalue\n[x:vars]\ny=1\n",
        )
        assert [f.split(": ")[0] for f in found] == [
            "h.ini:2:1",
            "h.ini:5:1",
            "h.ini:7:1",
            "h.ini:8:1",
        ]


class TestLoadInventoryErrors:
    """load_inventory refuses a bad inventory whole: InputError, exit status 3."""

    def test_one_problem_raises_it(self, tmp_path: Path) -> None:
        """A single problem is raised as an InputError with its location."""
        path = tmp_path / "h.ini"
        path.write_text("[a:children]\nb\n[b:children]\na\n")
        with pytest.raises(InputError) as caught:
            load_inventory(path)
        assert caught.value.exit_status == ExitStatus.INVALID_INPUT
        assert caught.value.location is not None and caught.value.location.line == 4
        assert "b -> a -> b" in str(caught.value)

    def test_several_problems_raise_them_together(self, tmp_path: Path) -> None:
        """Several problems come as one SpecErrors (an InputError) holding each of them."""
        path = tmp_path / "h.yml"
        path.write_text("web:\n  host:\n    a:\n  children:\n    web:\n")
        with pytest.raises(SpecErrors) as caught:
            load_inventory(path)
        assert caught.value.exit_status == ExitStatus.INVALID_INPUT
        assert len(caught.value.errors) == 2

    def test_duplicate_yaml_key(self, tmp_path: Path) -> None:
        """A key written twice is refused (Ansible only warns and keeps the last)."""
        path = tmp_path / "h.yml"
        path.write_text("web:\n  hosts:\n    a:\n    a:\n")
        with pytest.raises(InputError, match="duplicate key 'a'"):
            load_inventory(path)
