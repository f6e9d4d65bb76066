"""Host: the connection helpers and perflab's own variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.inventory import Host, load_inventory

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "inventory"


@pytest.fixture(scope="module")
def hosts() -> dict[str, Host]:
    return load_inventory(DATA / "connection.yml").hosts


class TestHost:
    """Host.address, port, user, key_file and perflab_vars()."""

    def test_defaults(self, hosts: dict[str, Host]) -> None:
        """Without variables: the name is the address, port 22, no user, no key."""
        host = hosts["plain"]
        assert (host.address, host.port, host.user, host.key_file) == ("plain", 22, None, None)

    def test_connection_variables(self, hosts: dict[str, Host]) -> None:
        """ansible_host, ansible_port, ansible_user are honoured."""
        host = hosts["full"]
        assert (host.address, host.port, host.user) == ("127.0.0.5", 2222, "bench")

    def test_relative_key_file_is_taken_from_the_inventory(self, hosts: dict[str, Host]) -> None:
        """A relative private key path is resolved against the inventory's directory."""
        assert hosts["full"].key_file == DATA / "keys" / "id_perflab"

    def test_ssh_aliases_win(self, hosts: dict[str, Host]) -> None:
        """ansible_ssh_host/_user/_private_key_file win over the plain names, as in Ansible."""
        host = hosts["aliases"]
        assert host.address == "127.0.0.7"
        assert host.user == "sshuser"
        assert host.key_file == Path("/etc/perflab/two")

    def test_port_given_as_text(self, hosts: dict[str, Host]) -> None:
        """ansible_port: "2022" (a YAML string) is port 2022."""
        assert hosts["aliases"].port == 2022

    def test_port_from_pattern(self, hosts: dict[str, Host]) -> None:
        """ported:2200 is host 'ported' with ansible_port 2200."""
        assert hosts["ported"].port == 2200
        assert hosts["ported"].vars["ansible_port"] == 2200

    def test_key_file_home(self, hosts: dict[str, Host], monkeypatch: pytest.MonkeyPatch) -> None:
        """~ in the key path is the user's home directory."""
        monkeypatch.setenv("HOME", "/home/perflab-test")
        assert hosts["tilde"].key_file == Path("/home/perflab-test/.ssh/id_perflab")

    def test_perflab_vars_strip_the_prefix(self) -> None:
        """perflab_vars() has perflab's variables without 'perflab_', and nothing else."""
        host = load_inventory(REPO / "inventories" / "lab" / "hosts.yml").hosts["graviton-02"]
        assert host.perflab_vars() == {
            "profile": "bare-metal",
            "platform": "linux-aarch64",
            "housekeeping_cpus": "0",
            "isolated_cpus": "1-63",
            "labels": ["nightly"],
            "keep_tuned": True,
        }

    def test_perflab_vars_one_shape_per_kind(self) -> None:
        """INI's list [0, 16] and int 0 come back as CPU-list text; labels as a list."""
        hosts = load_inventory(REPO / "inventories" / "lab.ini").hosts
        assert hosts["epyc-01"].vars["perflab_housekeeping_cpus"] == [0, 16]
        assert hosts["epyc-01"].perflab_vars()["housekeeping_cpus"] == "0,16"
        assert hosts["graviton-01"].perflab_vars()["housekeeping_cpus"] == "0"
        assert hosts["mac-m2-01"].perflab_vars()["labels"] == ["nightly"]

    def test_host_value_beats_group_files(self) -> None:
        """xeon-01's own CPU lists in hosts.yml beat group_vars/linux_x86.yml."""
        host = load_inventory(REPO / "inventories" / "lab" / "hosts.yml").hosts["xeon-01"]
        assert host.perflab_vars()["isolated_cpus"] == "2-7,10-15"
        assert host.perflab_vars()["platform"] == "linux-x86_64"
