"""Reading OpenSSH client configuration files: lookups, Include, and errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.errors import InputError
from perflab.transport.ssh_config import load_ssh_config, parse_files, parse_time


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class TestLookup:
    def test_alias_pattern_and_first_value_wins(self, tmp_path: Path) -> None:
        """Host aliases and patterns apply in file order; the first value obtained wins,
        as in ssh (a specific block before a `Host *` default)."""
        config = parse_files(
            [
                write(
                    tmp_path / "config",
                    """\
Host lab1
    HostName 10.0.0.5
    User perflab
Host lab* !lab9
    Port 2222
    IdentityFile ~/.ssh/lab
Host *
    User nobody
    Port 22
    ServerAliveInterval 30
""",
                )
            ]
        )
        lab1 = config.lookup("lab1")
        assert lab1["hostname"] == "10.0.0.5" and lab1["user"] == "perflab"
        assert lab1["port"] == "2222" and lab1["serveraliveinterval"] == "30"
        assert lab1["identityfile"] == [str(Path.home() / ".ssh/lab")]
        lab9 = config.lookup("lab9")
        assert lab9["hostname"] == "lab9" and lab9["port"] == "22" and lab9["user"] == "nobody"

    def test_proxycommand_tokens_are_left_for_the_caller(self, tmp_path: Path) -> None:
        """%h, %p and %r stay in ProxyCommand: the port and user that finally apply may come
        from the inventory, not from this file."""
        config = parse_files(
            [write(tmp_path / "config", "Host x\n  ProxyCommand socat - TCP:%h:%p\n")]
        )
        assert config.lookup("x")["proxycommand"] == "socat - TCP:%h:%p"

    def test_include_relative_to_dot_ssh_and_globbed(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Include is inlined where it stands; relative paths are taken from ~/.ssh; globs
        are read in sorted order."""
        monkeypatch.setenv("HOME", str(tmp_path))
        write(tmp_path / ".ssh/conf.d/20-b.conf", "Host b\n  HostName 10.0.0.2\n")
        write(tmp_path / ".ssh/conf.d/10-a.conf", "Host a\n  HostName 10.0.0.1\n")
        main = write(tmp_path / "elsewhere/config", "Include conf.d/*.conf\nHost *\n  User lab\n")
        config = parse_files([main])
        assert config.lookup("a")["hostname"] == "10.0.0.1"
        assert config.lookup("b")["hostname"] == "10.0.0.2"
        assert config.lookup("b")["user"] == "lab"

    def test_named_file_alone(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A named file (-F, PERFLAB_SSH_CONFIG) is the only one read; otherwise ~/.ssh/config
        comes first. Parses are cached until a file changes."""
        monkeypatch.setenv("HOME", str(tmp_path))
        write(tmp_path / ".ssh/config", "Host a\n  User from-home\n")
        named = write(tmp_path / "named", "Host a\n  User from-named\n")
        assert load_ssh_config(named).lookup("a")["user"] == "from-named"
        assert load_ssh_config(None).lookup("a")["user"] == "from-home"
        assert load_ssh_config(named) is load_ssh_config(named)
        named.write_text("Host a\n  User changed-later\n")
        assert load_ssh_config(named).lookup("a")["user"] == "changed-later"

    def test_time_format(self) -> None:
        """ConnectTimeout and ServerAliveInterval take OpenSSH's time format."""
        assert parse_time("10") == 10 and parse_time("1m30s") == 90 and parse_time("2M") == 120
        assert parse_time("ten") is None and parse_time("") is None


class TestErrors:
    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("  Port two", "Port must be a number from 1 to 65535, got 'two'"),
            ("  Port 70000", "Port must be a number"),
            ("  ConnectTimeout soon", "ConnectTimeout must be a time in seconds"),
            ("  ServerAliveInterval -5", "ServerAliveInterval must be a time"),
            ("  ProxyJump a b", "ProxyJump hops must be [user@]host[:port], got 'a b'"),
            ("  Match nosuchthing x", "Match criterion 'nosuchthing' is not one ssh knows"),
            ("  Match host", "Missing parameter to Match 'host' keyword"),
            ("  justakeyword", "Unparsable line"),
        ],
    )
    def test_bad_line_named_by_file_and_line(
        self, tmp_path: Path, line: str, expected: str
    ) -> None:
        """A line ssh would refuse: exit 3, naming the file, line and column."""
        path = write(tmp_path / "config", f"# lab\nHost a\n  HostName 10.0.0.1\n{line}\n")
        with pytest.raises(InputError) as caught:
            parse_files([path])
        assert str(caught.value).startswith(f"{path}:4:3: ")
        assert expected in str(caught.value)
        assert caught.value.exit_status == 3

    def test_error_in_included_file_names_that_file(self, tmp_path: Path) -> None:
        """The line is named in the included file, not in the file that includes it."""
        inner = write(tmp_path / "inner.conf", "Host b\nPort x\n")
        outer = write(tmp_path / "config", f"Host a\nInclude {inner}\n")
        with pytest.raises(InputError, match=rf"^{inner}:2:1: Port must be"):
            parse_files([outer])

    def test_include_loop(self, tmp_path: Path) -> None:
        """A file that includes itself is refused, not followed forever."""
        path = write(tmp_path / "config", "")
        path.write_text(f"Include {path}\n")
        with pytest.raises(InputError, match="Include nested more than 16 deep"):
            parse_files([path])

    def test_named_file_missing(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match=r"ssh config file .*nope does not exist"):
            load_ssh_config(tmp_path / "nope")
