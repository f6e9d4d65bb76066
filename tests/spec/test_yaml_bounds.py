"""The shared YAML loader's limits: what they refuse, and that ordinary YAML is untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from perflab.errors import InputError
from perflab.limits import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES
from perflab.spec.yamlpos import load_yaml, parse_yaml


def refusal(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "f.yaml")
    assert caught.value.exit_status == 3
    return caught.value


class TestExpandedValues:
    def test_exactly_the_limit_loads(self) -> None:
        """A document of exactly MAX_YAML_NODES values (the list counts as one) loads."""
        data, _ = parse_yaml("[" + ", ".join(["1"] * (MAX_YAML_NODES - 1)) + "]", "f.yaml")
        assert len(data) == MAX_YAML_NODES - 1

    def test_one_more_is_refused(self) -> None:
        """One value more is refused at that value, naming its index."""
        error = refusal("[" + ", ".join(["1"] * MAX_YAML_NODES) + "]")
        assert str(error).startswith(
            f"f.yaml:1:{1 + 3 * (MAX_YAML_NODES - 1) + 1}: [{MAX_YAML_NODES - 1}]: expected at most"
        )

    def test_aliases_count_at_their_expanded_size(self) -> None:
        """Nine aliases of a list of 9,991 values fit, the tenth is refused (that alias)."""
        big = "[" + ", ".join(["1"] * 9_990) + "]"
        text = f"a: &a {big}\nb: [{', '.join(['*a'] * 10)}]\n"
        error = refusal(text)
        assert error.location is not None and error.location.line == 2
        assert error.field == "b[9]" and "alias *a" in str(error)

    def test_ordinary_anchors_and_merge_keys_load_as_pyyaml_loads_them(self) -> None:
        """Anchors, aliases and merge keys of ordinary files give PyYAML's own data."""
        text = (
            "defaults: &d {user: lab, port: 22}\n"
            "hosts:\n  a: {<<: *d, key: k}\n  b: *d\n  c: [*d, *d]\n"
        )
        data, pos = parse_yaml(text, "f.yaml")
        assert data == yaml.safe_load(text)
        assert pos.value(("hosts", "a", "key")).line == 3

    def test_recursive_alias(self) -> None:
        """An alias inside its own anchor is refused (walking it would never end)."""
        error = refusal("x: &a {self: *a}\n")
        assert error.field == "x.self" and "recursive" in str(error)


class TestNesting:
    def test_the_limit_loads(self) -> None:
        """MAX_YAML_DEPTH nested lists load."""
        data, _ = parse_yaml("[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH, "f.yaml")
        assert isinstance(data, list)

    def test_one_level_more_is_refused(self) -> None:
        """One level deeper is refused at the list that is too deep."""
        error = refusal("[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1))
        assert str(error).startswith(f"f.yaml:1:{MAX_YAML_DEPTH + 1}: ")
        assert f"at most {MAX_YAML_DEPTH} levels" in str(error)


class TestText:
    @pytest.mark.parametrize(
        ("char", "found"), [("\x00", "a NUL character"), ("\x07", "the control character #x0007")]
    )
    def test_control_characters(self, char: str, found: str) -> None:
        """Characters YAML does not allow: the place, not PyYAML's reader message."""
        error = refusal(f"a: 1\nb: x{char}y\n")
        assert str(error) == f"f.yaml:2:5: expected text, got {found}"

    def test_nul_in_a_file(self, tmp_path: Path) -> None:
        """A file with a NUL is refused when read, with its line and column."""
        path = tmp_path / "f.yaml"
        path.write_bytes(b"a: 1\n\x00\n")
        with pytest.raises(InputError, match=r"f\.yaml:2:1: expected text, got a NUL"):
            load_yaml(path)

    def test_text_over_the_size_limit(self) -> None:
        """Text handed to the parser directly is bounded too."""
        error = refusal("#" * (MAX_YAML_BYTES + 1))
        assert "at most 1 MiB" in str(error)

    def test_file_at_the_size_limit_is_read(self, tmp_path: Path) -> None:
        """A file of exactly the limit is read; one byte more is refused before reading."""
        path = tmp_path / "f.yaml"
        path.write_text("a: 1\n" + "#" * (MAX_YAML_BYTES - 6) + "\n")
        assert load_yaml(path)[0] == {"a": 1}
        with path.open("a") as handle:
            handle.write("#")
        with pytest.raises(InputError, match=r"expected a file of at most 1 MiB"):
            load_yaml(path)


class TestJsonVarsFiles:
    """group_vars/*.json are read with json first: held to the same bounds as YAML."""

    def inventory(self, tmp_path: Path, text: str) -> list[str]:
        from perflab.inventory import validate_inventory

        (tmp_path / "group_vars").mkdir()
        (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    r1: {ansible_host: 127.0.0.1}\n")
        (tmp_path / "group_vars" / "all.json").write_text(text)
        return [str(e) for e in validate_inventory(tmp_path)]

    @pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 900, 5000])
    def test_nesting(self, tmp_path: Path, depth: int) -> None:
        """Deep JSON is refused like deep YAML (5000 levels was a RecursionError)."""
        found = self.inventory(tmp_path, '{"x": ' + "[" * depth + "]" * depth + "}")
        assert len(found) == 1 and f"at most {MAX_YAML_DEPTH} levels" in found[0], found
        assert "all.json" in found[0]

    def test_values(self, tmp_path: Path) -> None:
        """More than MAX_YAML_NODES values is refused like in YAML."""
        found = self.inventory(tmp_path, '{"x": [' + ", ".join(["1"] * MAX_YAML_NODES) + "]}")
        assert len(found) == 1 and f"at most {MAX_YAML_NODES} values" in found[0], found

    def test_ordinary_json_still_reads(self, tmp_path: Path) -> None:
        """A plain JSON vars file is fine."""
        assert self.inventory(tmp_path, '{"ntp": ["a", "b"], "n": {"k": 1}}') == []
