"""A config file that is not what perflab reads: exit 3, with file:line:col, the key, what
was expected and what was found."""

from __future__ import annotations

import os

import pytest

from perflab import config
from perflab.errors import InputError
from tests.config.conftest import Lab


def error_of(lab: Lab, text: str) -> str:
    lab.write(text)
    with pytest.raises(InputError) as caught:
        config.settings()
    assert caught.value.exit_status == 3
    return str(caught.value)


class TestValues:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("lock_wait: soon\n", '1:12: lock_wait: expected a number of seconds >= 0, got "soon"'),
            ("lock_wait: -3\n", "1:12: lock_wait: expected a number of seconds >= 0, got -3"),
            ("lock_wait: true\n", "1:12: lock_wait: expected a number of seconds >= 0, got True"),
            ("lock_wait: .inf\n", "1:12: lock_wait: expected a number of seconds >= 0, got inf"),
            ("lease_ttl: 0\n", "1:12: lease_ttl: expected a number of seconds > 0, got 0"),
            (
                "visibility_timeout: [1]\n",
                "1:21: visibility_timeout: expected a number of seconds > 0, got a list",
            ),
            (
                "file_max_bytes: 1.5\n",
                "1:17: file_max_bytes: expected a whole number of bytes > 0, got 1.5",
            ),
            (
                "run_files_max_bytes: '1'\n",
                '1:22: run_files_max_bytes: expected a whole number of bytes > 0, got "1"',
            ),
            ("db_url: 5\n", "1:9: db_url: expected a URL like postgresql://user@host/db, got 5"),
            (
                "db_url:\n",
                "1:8: db_url: expected a URL like postgresql://user@host/db, got nothing (null)",
            ),
            (
                "broker_url: queue:6379\n",
                "1:13: broker_url: expected a URL like "
                'redis://host:6379/0, got text with no "scheme://"',
            ),
            ("prefix: {a: 1}\n", "1:9: prefix: expected text, got a mapping"),
            (
                "state_dir: relative/state\n",
                "1:12: state_dir: expected an absolute path (or one "
                'starting with ~), got "relative/state"',
            ),
        ],
    )
    def test_wrong_value(self, lab: Lab, text: str, message: str) -> None:
        """A value of the wrong type or range names its place, the key, what the setting
        takes and what was found."""
        assert error_of(lab, text) == f"{lab.file}:{message}"

    def test_a_bad_url_is_never_echoed(self, lab: Lab) -> None:
        """A URL that is wrong is not repeated in the message: it may hold a password."""
        assert "hunter2" not in error_of(lab, "db_url: lab:hunter2@db/perflab\n")

    def test_every_problem_at_once(self, lab: Lab) -> None:
        """All the file's problems are reported together, each with its place."""
        text = error_of(lab, "lock_wait: soon\nprefix: 3\n")
        assert text.splitlines() == [
            f'{lab.file}:1:12: lock_wait: expected a number of seconds >= 0, got "soon"',
            f"{lab.file}:2:9: prefix: expected text, got 3",
        ]


class TestKeys:
    def test_unknown_key_suggests(self, lab: Lab) -> None:
        """A misspelt setting says which one was meant."""
        assert error_of(lab, "# lab\ndb_ulr: postgresql://db/perflab\n").startswith(
            f"{lab.file}:2:1: db_ulr: expected a setting (db_url, broker_url, "
        )
        assert 'got "db_ulr" (did you mean "db_url"?)' in error_of(lab, "db_ulr: x\n")
        assert '(did you mean "lock_wait"?)' in error_of(lab, "lock-wait: 3\n")

    def test_home_is_environment_only(self, lab: Lab) -> None:
        """The home cannot be set in the file that lives in it."""
        assert error_of(lab, "prefix: p\nhome: /srv/perflab\n") == (
            f"{lab.file}:2:1: home: is read from the environment only (PERFLAB_HOME): it says "
            "where this file is"
        )

    def test_duplicate_key(self, lab: Lab) -> None:
        """A key written twice is an error at the second, naming the first's line."""
        assert error_of(lab, "prefix: a\nprefix: b\n") == (
            f"{lab.file}:2:1: prefix: duplicate key 'prefix' (first defined at line 1)"
        )


class TestShape:
    @pytest.mark.parametrize(
        ("text", "found"), [("- db_url: x\n", "a list"), ("postgresql://db\n", "text")]
    )
    def test_not_a_mapping(self, lab: Lab, text: str, found: str) -> None:
        """The file is a mapping of settings; anything else says what it is."""
        assert error_of(lab, text) == (
            f"{lab.file}:1:1: expected a mapping of settings (db_url: ..., lock_wait: ...), "
            f"got {found}"
        )

    def test_malformed_yaml(self, lab: Lab) -> None:
        """YAML that does not parse points at the place."""
        assert error_of(lab, "prefix: a\nlock_wait: [1\n").startswith(
            f"{lab.file}:3:1: invalid YAML: "
        )

    def test_too_big(self, lab: Lab) -> None:
        """A file over the bound is refused before it is parsed."""
        text = "# padding\n" * 110_000
        assert error_of(lab, text) == (
            f"{lab.file}: expected at most 1 MiB (1048576 bytes) of YAML, got {len(text)} bytes"
        )

    def test_aliases_refused(self, lab: Lab) -> None:
        """Anchors and aliases have no use in a flat file and are how a small file expands
        to a huge one: refused with their place."""
        bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
            f"*{chr(97 + i)}]\n"
            for i in range(20)
        )
        assert error_of(lab, bomb).startswith(f"{lab.file}:2:")
        assert "aliases" in error_of(lab, bomb)

    def test_deep_nesting(self, lab: Lab) -> None:
        """A value nested thousands of levels deep is an error, not a crash."""
        text = "prefix: " + "[" * 50_000 + "]" * 50_000 + "\n"
        assert "nested" in error_of(lab, text)


class TestReading:
    def test_missing_file_is_fine(self, lab: Lab) -> None:
        """No file: the environment and the defaults."""
        assert not lab.file.exists()
        assert config.settings().prefix.source == "default"

    def test_directory_is_an_error(self, lab: Lab) -> None:
        """Something that is there but cannot be read as a file is an error."""
        lab.file.mkdir()
        config.reset()
        with pytest.raises(InputError) as caught:
            config.settings()
        assert str(caught.value) == f"{lab.file}: expected a file, got a directory"

    @pytest.mark.timeout(30)
    def test_fifo_does_not_block(self, lab: Lab) -> None:
        """A named pipe is refused at once (reading it would wait for a writer)."""
        os.mkfifo(lab.file)
        config.reset()
        with pytest.raises(InputError) as caught:
            config.settings()
        assert str(caught.value) == f"{lab.file}: expected a file, got a FIFO (named pipe)"

    def test_link_to_nothing_is_an_error(self, lab: Lab, tmp_path) -> None:
        """A config.yaml that links to a missing file is a mistake to report, not "no file"."""
        lab.file.symlink_to(tmp_path / "gone.yaml")
        config.reset()
        with pytest.raises(InputError) as caught:
            config.settings()
        assert str(caught.value) == f"{lab.file}: cannot read the file: a link to a missing file"

    def test_not_utf8(self, lab: Lab) -> None:
        lab.file.write_bytes(b"prefix: \xff\n")
        config.reset()
        with pytest.raises(InputError) as caught:
            config.settings()
        assert str(caught.value) == f"{lab.file}: not UTF-8 text (byte 8)"

    def test_home_is_a_file(self, lab: Lab, tmp_path) -> None:
        """A PERFLAB_HOME that is a file makes the config file unreadable: an error."""
        (tmp_path / "plain").write_text("")
        lab.env("PERFLAB_HOME", str(tmp_path / "plain"))
        config.reset()
        with pytest.raises(InputError, match="cannot read the file: Not a directory"):
            config.settings()
