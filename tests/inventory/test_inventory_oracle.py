"""perflab's view of inventories compared with Ansible's own (ansible-inventory as oracle)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inventory_oracle import (
    ANSIBLE_INVENTORY,
    ansible_host_order,
    ansible_list,
    ansible_refuses,
    ansible_warnings,
    needs_ansible,
    prefetch,
)
from inventory_random import write_random_inventory

from perflab.errors import InputError
from perflab.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "inventory"

INVENTORIES = {
    "nested-yaml-with-vars-dirs": DATA / "nested" / "hosts.yml",
    "group-priority": DATA / "priority" / "hosts.yml",
    "ini-typing": DATA / "ini_typing" / "hosts.ini",
    "ini-children-before-sections": DATA / "ini_typing" / "children.ini",
    "ranges-yaml": DATA / "ranges.yml",
    "ranges-ini": DATA / "ranges.ini",
    "ungrouped-ini": DATA / "ungrouped.ini",
    "ungrouped-yaml": DATA / "ungrouped.yml",
    "directory-of-inventories": DATA / "directory",
    "yaml-without-extension": DATA / "noext_yaml" / "hosts",
    "ini-without-extension": DATA / "noext_ini" / "hosts",
    "connection-variables": DATA / "connection.yml",
    "vault-values": DATA / "vault" / "hosts.yml",
    "example-lab-yaml": REPO / "inventories" / "lab" / "hosts.yml",
    "example-lab-directory": REPO / "inventories" / "lab",
    "example-lab-ini": REPO / "inventories" / "lab.ini",
}


@pytest.fixture(scope="module", autouse=True)
def _ask_ansible_first() -> None:
    if ANSIBLE_INVENTORY is not None:
        prefetch(list(INVENTORIES.values()))


@needs_ansible
class TestToAnsibleList:
    """Inventory.to_ansible_list() equals what `ansible-inventory --list` prints."""

    @pytest.mark.parametrize("path", INVENTORIES.values(), ids=INVENTORIES.keys())
    def test_equals_ansible_inventory_list(self, path: Path) -> None:
        """Groups, children and host order, and every host's merged variables match."""
        assert load_inventory(path).to_ansible_list() == ansible_list(path)

    @pytest.mark.slow
    @pytest.mark.parametrize("seed", range(16))
    def test_random_inventories_match(self, seed: int, tmp_path: Path) -> None:
        """Random DAGs of groups with variables everywhere read the same as in Ansible."""
        path = write_random_inventory(seed, "yaml" if seed % 2 else "ini", tmp_path)
        refusal = ansible_refuses(path)
        if refusal is not None:
            with pytest.raises(InputError):
                load_inventory(path)
        else:
            assert load_inventory(path).to_ansible_list() == ansible_list(path)


@needs_ansible
class TestHostOrder:
    """Inventory.hosts is in the order `ansible all --list-hosts` prints."""

    @pytest.mark.parametrize("path", INVENTORIES.values(), ids=INVENTORIES.keys())
    def test_matches_ansible_list_hosts(self, path: Path) -> None:
        """Hosts come breadth-first from `all`, each group's hosts in their order."""
        assert list(load_inventory(path).hosts) == ansible_host_order(path)


@needs_ansible
class TestAnsibleRefusesToo:
    """Where perflab refuses an inventory because Ansible does, Ansible really does."""

    @pytest.mark.parametrize(
        "text",
        [
            "[a:children]\nb\n[b:children]\na\n",
            "[a:children]\na\n",
            "[web]\nweb-01\n[nope:vars]\nx=1\n",
            "[web]\nh1\n[p:children]\nh1\n",
            "[web]\nweb-[01:100]\n",
            "[web]\nweb-01 novalue\n",
            "[web]\nweb-01 x='open\n",
            "[web:child]\nh\n",
        ],
        ids=[
            "cycle",
            "self-child",
            "vars-of-unknown-group",
            "host-as-child",
            "range-width",
            "no-equals",
            "open-quote",
            "unknown-section",
        ],
    )
    def test_ini(self, text: str, tmp_path: Path) -> None:
        """perflab raises InputError and ansible-inventory fails on the same file."""
        path = tmp_path / "hosts.ini"
        path.write_text(text)
        assert ansible_refuses(path) is not None
        with pytest.raises(InputError):
            load_inventory(path)

    def test_yaml_cycle(self, tmp_path: Path) -> None:
        """A YAML cycle in children fails in both."""
        path = tmp_path / "hosts.yml"
        path.write_text("a:\n  children:\n    b:\n      children:\n        a:\n")
        assert ansible_refuses(path) is not None
        with pytest.raises(InputError):
            load_inventory(path)

    def test_host_and_group_with_one_name(self, tmp_path: Path) -> None:
        """Ansible reads a host and a group of one name with a warning; perflab refuses it."""
        path = tmp_path / "hosts.yml"
        path.write_text("g1:\n  hosts:\n    b:\n      x: 1\nb:\n  hosts:\n    h1:\n")
        assert "Found both group and host with same name: b" in ansible_warnings(path)
        with pytest.raises(InputError, match="'b' is both a host and a group"):
            load_inventory(path)
