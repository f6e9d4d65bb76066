"""load_inventory and the Inventory it returns: precedence, typing, ranges, formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "inventory"
LAB = REPO / "inventories" / "lab" / "hosts.yml"


class TestLoadInventory:
    """load_inventory(path) reads YAML, INI and directories with Ansible's rules."""

    def test_host_beats_child_group_beats_parent_beats_all(self) -> None:
        """The same variable at every level: the most specific place wins."""
        hosts = load_inventory(DATA / "nested" / "hosts.yml").hosts
        assert hosts["web-01"].vars["level"] == "host-inline"
        assert hosts["web-02"].vars["level"] == "web-02-host_vars"
        assert hosts["db-01"].vars["level"] == "db-file"
        assert hosts["lone-01"].vars["level"] == "all-inline"
        assert hosts["web-01"].vars["site_var"] == "site"

    def test_group_vars_all_beats_inventory_group_vars(self) -> None:
        """group_vars/all overrides a group's vars written in the inventory file (as in Ansible)."""
        inventory = load_inventory(DATA / "nested" / "hosts.yml")
        assert inventory.hosts["web-01"].vars["shared"] == "group_vars-all"
        assert inventory.hosts["web-01"].vars["only_all"] == "from-all"

    def test_equal_depth_groups_are_ordered_by_name(self) -> None:
        """web-02 is in web and db at the same depth and priority: 'web' sorts later and wins."""
        hosts = load_inventory(DATA / "nested" / "hosts.yml").hosts
        assert hosts["web-02"].vars["dict_var"] == {"a": 1, "b": [1, 2]}
        assert hosts["web-02"].vars["web_only"] == 1

    def test_group_vars_files_and_directories(self) -> None:
        """A file without extension beats NAME.yml; a directory is read whole, in order."""
        variables = load_inventory(DATA / "nested" / "hosts.yml").hosts["web-01"].vars
        assert variables["site_file"] == "site-noext"
        assert variables["web_file"] == "twenty"
        assert variables["json_list"] == [1, "two", None]
        assert variables["web_more"] == "deep"
        assert not {k for k in variables if k.startswith("never")}

    def test_host_vars_files(self) -> None:
        """host_vars/NAME without extension is read; an empty file adds nothing."""
        hosts = load_inventory(DATA / "nested" / "hosts.yml").hosts
        assert hosts["lone-01"].vars["lone"] is True
        assert hosts["db-01"].vars["level"] == "db-file"

    def test_group_priority(self) -> None:
        """ansible_group_priority orders groups of equal depth; depth still comes first."""
        inventory = load_inventory(DATA / "priority" / "hosts.yml")
        assert inventory.hosts["p-01"].vars["pick"] == "alpha"
        assert inventory.hosts["p-02"].vars["tie"] == "zeta"
        assert inventory.hosts["p-03"].vars["pick"] == "deep_child"
        assert inventory.groups["alpha"].priority == 10
        assert "ansible_group_priority" not in inventory.groups["alpha"].vars

    def test_priority_in_a_vars_file_is_only_a_variable(self) -> None:
        """group_vars/beta.yml's ansible_group_priority does not reorder groups (Ansible agrees)."""
        inventory = load_inventory(DATA / "priority" / "hosts.yml")
        assert inventory.groups["beta"].priority == 1
        assert inventory.hosts["p-02"].vars["from_file"] == "alpha"
        assert inventory.hosts["p-01"].vars["ansible_group_priority"] == 50

    def test_groups_depth_and_links(self) -> None:
        """Depth is the longest chain of children from all; parents and children are kept."""
        groups = load_inventory(DATA / "nested" / "hosts.yml").groups
        assert (groups["all"].depth, groups["site"].depth, groups["web"].depth) == (0, 1, 3)
        assert groups["region"].children == ("web", "db")
        assert groups["db"].parents == ("region",)
        assert groups["db"].hosts == ("db-01", "web-02")

    def test_host_groups_are_transitive(self) -> None:
        """Host.groups is Ansible's group_names: every group above the host, sorted, no 'all'."""
        host = load_inventory(DATA / "nested" / "hosts.yml").hosts["web-02"]
        assert host.groups == ("db", "region", "site", "web")

    def test_ini_inline_values_are_shell_split_then_literals(self) -> None:
        """On a host line quotes are removed first, so '03' is text only when quoted twice."""
        variables = load_inventory(DATA / "ini_typing" / "hosts.ini").hosts["loose-01"].vars
        assert variables["n"] == 5 and variables["b"] is True and variables["no"] is None
        assert variables["q"] == "03" and variables["lz"] == "03"
        assert variables["l"] == [1, 2]
        assert variables["d"] == "{k:1}"
        assert variables["s"] == "hello world"
        assert variables["c"] == "abc"
        assert variables["t"] == "x=y" and variables["e"] == ""

    def test_ini_vars_section_values_are_literals_of_the_whole_rest(self) -> None:
        """In [g:vars] the value is the rest of the line: lists parse, '#' may be text."""
        variables = load_inventory(DATA / "ini_typing" / "hosts.ini").hosts["typed-01"].vars
        assert variables["v_int"] == 5
        assert variables["v_list"] == [1, 2, "three"]
        assert variables["v_dict"] == {"a": 1, "b": [True, None]}
        assert variables["v_false"] == "FALSE" and variables["v_yes"] == "yes"
        assert variables["v_plain"] == "hello world # this is not a comment"
        assert variables["v_num_comment"] == 5
        assert variables["v_cpus"] == [0, 16] and variables["v_range"] == "2-15"
        assert variables["v_spaces"] == "spaced out"
        assert variables["v_set"] == [3] and variables["v_ellipsis"] == "..."

    def test_ini_port_in_pattern_and_inline(self) -> None:
        """host:2202 sets ansible_port; an inline ansible_port beats [all:vars]."""
        hosts = load_inventory(DATA / "ini_typing" / "hosts.ini").hosts
        assert hosts["typed-02"].vars["ansible_port"] == 2202
        assert hosts["typed-01"].port == 2201
        assert hosts["loose-01"].port == 2200

    def test_ini_children_linked_when_defined(self) -> None:
        """Children named before their sections are linked in the order the sections come."""
        groups = load_inventory(DATA / "ini_typing" / "children.ini").groups
        assert groups["parent"].children == ("first", "second")
        assert groups["second"].children == ("grandchild",)

    def test_ranges(self) -> None:
        """Numeric (fixed width), alphabetic, stepped and multiplied ranges expand in order."""
        groups = load_inventory(DATA / "ranges.yml").groups
        assert groups["numeric"].hosts == (
            "epyc-01",
            "epyc-02",
            "epyc-03",
            "epyc-04",
            "node1",
            "node2",
            "node3",
            "step01",
            "step04",
            "step07",
            "step10",
            "from-zero-0",
            "from-zero-1",
            "from-zero-2",
        )
        assert groups["alpha"].hosts == (
            "dba.example.com",
            "dbb.example.com",
            "dbc.example.com",
            "racka-1",
            "racka-2",
            "rackb-1",
            "rackb-2",
            "lettersx",
            "lettersz",
        )

    def test_range_ports(self) -> None:
        """A :port after a range applies to every host of it; IPv6 takes one in brackets."""
        hosts = load_inventory(DATA / "ranges.yml").hosts
        assert [hosts[h].port for h in ("port-1", "port-2", "127.0.0.2", "::1")] == [
            2222,
            2222,
            2200,
            2300,
        ]

    def test_ungrouped(self) -> None:
        """Hosts in no group go to ungrouped; a host in a real group leaves it."""
        groups = load_inventory(DATA / "ungrouped.ini").groups
        assert groups["ungrouped"].hosts == ("top-01", "in-all-01")
        assert groups["real"].hosts == ("top-02", "explicit-01")
        assert groups["all"].children == ("ungrouped", "real")

    def test_empty_group_is_kept(self) -> None:
        """A group with no hosts and no children exists (Ansible lists it under its parent)."""
        inventory = load_inventory(DATA / "ungrouped.yml")
        assert inventory.groups["empty_group"].hosts == ()
        assert "empty_group" in inventory.groups["all"].children

    def test_directory_of_inventories(self) -> None:
        """Every inventory file of a directory is read in order; .md, .txt, .bak are skipped."""
        inventory = load_inventory(DATA / "directory")
        assert inventory.groups["web"].hosts == ("web-01", "web-02")
        assert inventory.groups["db"].hosts == ("db-01", "db-02")
        assert "ignored" not in inventory.groups
        assert inventory.hosts["web-02"].vars["role"] == "web"

    @pytest.mark.parametrize(
        ("folder", "host"), [("noext_yaml", "yaml-01"), ("noext_ini", "ini-02")]
    )
    def test_format_by_content_without_extension(self, folder: str, host: str) -> None:
        """A file without extension is YAML if it reads as a YAML mapping, INI otherwise."""
        inventory = load_inventory(DATA / folder / "hosts")
        assert host in inventory.groups["web"].hosts

    def test_yaml_extension_with_ini_content_is_refused(self, tmp_path: Path) -> None:
        """A .yml file is YAML: INI text in it is an error, not silently INI."""
        path = tmp_path / "hosts.yml"
        path.write_text("[web]\nweb-01\n")
        with pytest.raises(InputError, match="invalid YAML"):
            load_inventory(path)

    def test_empty_file_is_an_empty_inventory(self, tmp_path: Path) -> None:
        """An empty inventory has the groups all and ungrouped and no host (as in Ansible)."""
        path = tmp_path / "hosts.yml"
        path.write_text("# nothing yet\n")
        inventory = load_inventory(path)
        assert inventory.hosts == {} and list(inventory.groups) == ["all", "ungrouped"]

    def test_source_and_warnings(self, tmp_path: Path) -> None:
        """A group_vars file for no group is a warning (with a guess), not an error."""
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "linux_x68.yml").write_text("perflab_platform: x\n")
        (tmp_path / "hosts.yml").write_text("linux_x86:\n  hosts:\n    h1:\n")
        inventory = load_inventory(tmp_path / "hosts.yml")
        assert inventory.source == tmp_path / "hosts.yml"
        assert len(inventory.warnings) == 1
        assert "linux_x68.yml matches no group" in inventory.warnings[0]
        assert "did you mean 'linux_x86'?" in inventory.warnings[0]

    def test_origins_say_where_each_value_was_set(self) -> None:
        """Host.origins points at the file and line of the winning value."""
        host = load_inventory(DATA / "nested" / "hosts.yml").hosts["web-02"]
        where = host.origins["level"]
        assert where.file.endswith("host_vars/web-02.yml") and where.line == 1
        assert host.origins["web_only"].file.endswith("hosts.yml")

    def test_lab_is_valid(self) -> None:
        """The shipped lab loads: nine hosts in the groups the README describes."""
        inventory = load_inventory(LAB)
        assert len(inventory.hosts) == 9
        assert set(inventory.groups) >= {"linux", "linux_x86", "linux_arm", "macos", "nightly"}
        assert inventory.warnings == ()


class TestGroupHosts:
    """Inventory.group_hosts(name): the hosts of a group and of every group below it."""

    def test_group_of_groups(self) -> None:
        """nightly has only children; its hosts are theirs, in Ansible's order."""
        inventory = load_inventory(LAB)
        assert inventory.group_hosts("nightly") == [
            "epyc-01",
            "epyc-02",
            "epyc-03",
            "epyc-04",
            "xeon-01",
            "graviton-01",
            "graviton-02",
            "ampere-01",
            "mac-m2-01",
        ]

    def test_deep_nesting(self) -> None:
        """Hosts several levels down are found, each once."""
        inventory = load_inventory(DATA / "nested" / "hosts.yml")
        assert inventory.group_hosts("site") == ["web-01", "web-02", "db-01"]
        assert inventory.group_hosts("db") == ["db-01", "web-02"]

    def test_all(self) -> None:
        """group_hosts('all') is every host, in the order of Inventory.hosts."""
        inventory = load_inventory(LAB)
        assert inventory.group_hosts("all") == list(inventory.hosts)

    def test_unknown_group(self) -> None:
        """An unknown group is an input error with a suggestion."""
        with pytest.raises(InputError, match="did you mean 'nightly'"):
            load_inventory(LAB).group_hosts("nighty")
