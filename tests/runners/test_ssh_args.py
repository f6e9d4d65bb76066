"""ssh options an Ansible inventory passes in ansible_ssh_common_args / _extra_args."""

from __future__ import annotations

from perflab.runners.ssh_args import proxy_command, proxy_jump


class TestSSHArgs:
    def test_proxycommand_in_the_forms_ansible_users_write(self) -> None:
        """-o ProxyCommand="..." (Ansible's documented form), -oProxyCommand=, and the
        space form are read; tokens are left for later."""
        for args in (
            '-o ProxyCommand="ssh -W %h:%p -q bastion"',
            "-oProxyCommand='ssh -W %h:%p -q bastion'",
            '-o "ProxyCommand ssh -W %h:%p -q bastion"',
        ):
            assert proxy_command({"ansible_ssh_common_args": args}) == "ssh -W %h:%p -q bastion"
        assert proxy_command({"ansible_ssh_extra_args": "-o ProxyCommand=relay"}) == "relay"
        assert proxy_command({"ansible_ssh_common_args": "-o ServerAliveInterval=5"}) is None

    def test_proxyjump_forms_and_perflab_variable_first(self) -> None:
        assert (
            proxy_jump({"ansible_ssh_common_args": "-J admin@bastion:2222"}) == "admin@bastion:2222"
        )
        assert proxy_jump({"ansible_ssh_common_args": "-o ProxyJump=b1,b2"}) == "b1,b2"
        assert proxy_jump({"perflab_proxy_jump": "p", "ansible_ssh_common_args": "-J j"}) == "p"
        assert proxy_jump({"ansible_ssh_common_args": "-o 'unbalanced"}) is None
