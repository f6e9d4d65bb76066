"""The local transport (`local`, and runners with ansible_connection: local) and become."""

from __future__ import annotations

import os

import pytest

from perflab.transport.become import Become
from perflab.transport.local import LocalTransport, _argv


class TestLocalBecome:
    def test_a_shell_command_run_as_root_by_root(self) -> None:
        """As root no sudo is needed, and a shell command still runs in a shell (it used
        to be run as a program named by the whole text)."""
        if os.geteuid() != 0:
            pytest.skip("needs root")
        assert LocalTransport().run("echo $((40 + 2))", sudo=True).text() == "42\n"
        assert LocalTransport(become=Become()).run("echo $((40 + 2))").text() == "42\n"

    def test_sudo_n_as_the_become_user(self) -> None:
        """Another user than the current one: `sudo -n -u USER --`, a shell command wrapped."""
        assert _argv("echo hi", True, "nobody") == [
            "sudo",
            "-n",
            "-u",
            "nobody",
            "--",
            "/bin/sh",
            "-c",
            "echo hi",
        ]
        assert _argv(["id"], False, "nobody") == ["id"]
