"""Host patterns and INI value typing, the two small languages inside an inventory."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perflab.inventory.ini_values import ini_value
from perflab.inventory.patterns import PatternError, expand, host_names, split_port


class TestHostNames:
    """host_names(pattern): the hosts a pattern stands for, and its port."""

    @pytest.mark.parametrize(
        ("pattern", "names", "port"),
        [
            ("web-01", ["web-01"], None),
            ("web-01:2222", ["web-01"], 2222),
            ("epyc-[01:03]", ["epyc-01", "epyc-02", "epyc-03"], None),
            ("x[1:10:3]", ["x1", "x4", "x7", "x10"], None),
            ("a[01:10:4]:22", ["a01", "a05", "a09"], 22),
            ("y[:1]", ["y0", "y1"], None),
            ("db[a:c]", ["dba", "dbb", "dbc"], None),
            ("l[x:Z:26]", ["lx", "lX"], None),
            ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"], None),
            ("10.0.0.[1:2]:2200", ["10.0.0.1", "10.0.0.2"], 2200),
            ("[::1]:2300", ["::1"], 2300),
            ("fe80::1", ["fe80::1"], None),
            ("h@x:22", ["h@x:22"], None),
        ],
    )
    def test_examples(self, pattern: str, names: list[str], port: int | None) -> None:
        """Ranges expand in order; a trailing :port applies to all of them."""
        assert host_names(pattern) == (names, port)

    def test_empty_name(self) -> None:
        """A pattern that makes an empty name is refused."""
        with pytest.raises(PatternError, match="cannot be empty"):
            host_names("")

    @given(st.integers(0, 500), st.integers(0, 500), st.integers(1, 50))
    def test_numeric_range_is_python_range(self, first: int, span: int, step: int) -> None:
        """[a:b:s] is range(a, b + 1, s)."""
        last = first + span
        assert expand(f"n[{first}:{last}:{step}]") == [
            f"n{i}" for i in range(first, last + 1, step)
        ]

    @given(st.integers(0, 99), st.integers(0, 900), st.integers(1, 50))
    def test_leading_zero_fixes_the_width(self, first: int, span: int, step: int) -> None:
        """A begin written with leading zeros pads every name to its width."""
        last = first + span
        width = len(str(last)) + 1
        pattern = f"n[{first:0{width}d}:{last:0{width}d}:{step}]"
        assert expand(pattern) == [f"n{i:0{width}d}" for i in range(first, last + 1, step)]

    @given(st.sampled_from(string.ascii_letters), st.sampled_from(string.ascii_letters))
    def test_letter_range_follows_ascii_letters(self, first: str, last: str) -> None:
        """[a:Z] runs through a..z then A..Z, as Ansible's does; backwards is an error."""
        letters = string.ascii_letters
        if letters.index(first) > letters.index(last):
            with pytest.raises(PatternError):
                expand(f"h[{first}:{last}]")
        else:
            run = letters[letters.index(first) : letters.index(last) + 1]
            assert expand(f"h[{first}:{last}]") == [f"h{c}" for c in run]

    def test_split_port_keeps_colons_of_invalid_names(self) -> None:
        """A name with a character no host name has keeps its ':NN' (Ansible does the same)."""
        assert split_port("a b:22") == ("a b:22", None)
        assert split_port("web-:22") == ("web-:22", None)


class TestIniValue:
    """ini_value(text): the typed value Ansible makes of an INI value."""

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("5", 5),
            ("-2", -2),
            ("0x1f", 31),
            ("1_000", 1000),
            ("1.5", 1.5),
            ("1e3", 1000.0),
            ("True", True),
            ("False", False),
            ("None", None),
            ("true", "true"),
            ("yes", "yes"),
            ("FALSE", "FALSE"),
            ("'03'", "03"),
            ('"x y"', "x y"),
            ("03", "03"),
            ("007", "007"),
            ("[1, 'a']", [1, "a"]),
            ("(1, 2)", [1, 2]),
            ("{3}", [3]),
            ("1,2", [1, 2]),
            ("{'a': [None]}", {"a": [None]}),
            ("2-15", "2-15"),
            ("0,16", [0, 16]),
            ("...", "..."),
            ("1j", "1j"),
            ("b'x'", "x"),
            ("", ""),
            (" 5", 5),
            ("hello # not a comment", "hello # not a comment"),
            ("5 # a comment", 5),
        ],
    )
    def test_typing(self, text: str, value: object) -> None:
        """Python literals are typed; anything else stays the text it is."""
        assert ini_value(text) == value
        assert type(ini_value(text)) is type(value)
