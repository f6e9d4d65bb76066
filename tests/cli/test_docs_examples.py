"""Every YAML and INI example in docs/*.md and README.md passes `perflab validate`.

A job file, playbook or inventory shown in the documentation must be one that works when
copied. An example that is deliberately a piece of a job file says so in its fence's info
string (```` ```yaml fragment ````): it is validated inside a minimal job (one benchmark,
format auto), and must not be complete on its own (then it needs no marker). A settings
file (```` ```yaml config ````) must be one `perflab config show` accepts.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
LANGUAGES = {"yaml": "yml", "ini": "ini"}
MARKERS = {"", "fragment", "config"}
SKELETON = {"name": "fragment", "benchmarks": [{"name": "b", "command": "true", "format": "auto"}]}
_FENCE = re.compile(r"^\s*```\s*(\S*)\s*(.*?)\s*$")  # also indented (in a list item)


@dataclass(frozen=True)
class Example:
    doc: Path
    line: int  # of the opening fence
    language: str
    marker: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def examples() -> list[Example]:
    """The fenced YAML and INI blocks of the documentation, where they stand."""
    found = []
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        opened: tuple[int, str, str] | None = None
        body: list[str] = []
        for number, line in enumerate(lines, start=1):
            fence = _FENCE.match(line)
            if fence is None:
                body.append(line)
            elif opened is None:
                opened, body = (number, fence.group(1), fence.group(2)), []
            else:
                start, language, marker = opened
                if language in LANGUAGES:
                    text = textwrap.dedent("\n".join(body)) + "\n"
                    found.append(Example(doc, start, language, marker, text))
                opened = None
    return found


EXAMPLES = examples()


def write(example: Example, folder: Path) -> Path:
    """The example as a file (a fragment inside the minimal job)."""
    path = folder / f"example.{LANGUAGES[example.language]}"
    if example.marker == "fragment":
        fragment = yaml.safe_load(example.text)
        assert isinstance(fragment, dict), f"{example.id}: a fragment is a mapping of job keys"
        path.write_text(yaml.safe_dump({**SKELETON, **fragment}, sort_keys=False))
    else:
        path.write_text(example.text)
    return path


class TestDocsExamples:
    def test_the_documentation_has_examples(self) -> None:
        """The extraction finds the examples (jobs, playbooks, inventories, fragments)."""
        kinds = {(e.doc.name, e.language, e.marker) for e in EXAMPLES}
        assert {
            ("README.md", "yaml", ""),
            ("jobs.md", "yaml", ""),
            ("knobs.md", "yaml", ""),
            ("inventories.md", "ini", ""),
            ("comparing.md", "yaml", "fragment"),
            ("configuration.md", "yaml", "config"),
        } <= kinds

    @pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
    def test_example_validates(self, cli, home: Path, tmp_path: Path, example: Example) -> None:
        """Each example is a file `perflab validate` accepts, a marked fragment of a job
        that is valid inside one, or a marked settings file `config show` accepts."""
        assert example.marker in MARKERS, (
            f"{example.id}: unknown fence marker {example.marker!r}; mark a piece of a job "
            "file ```yaml fragment"
        )
        if example.marker == "config":
            home.mkdir(parents=True, exist_ok=True)
            (home / "config.yaml").write_text(example.text)
            result = cli("config", "show")
            assert result.status == 0, f"{example.id}:\n{example.text}\n{result.err}"
            return
        result = cli("validate", str(write(example, tmp_path)))
        assert result.status == 0, f"{example.id}:\n{example.text}\n{result.err}"

    @pytest.mark.parametrize(
        "example",
        [e for e in EXAMPLES if e.marker == "fragment"],
        ids=[e.id for e in EXAMPLES if e.marker == "fragment"],
    )
    def test_fragments_are_really_fragments(self, cli, tmp_path: Path, example: Example) -> None:
        """A block marked as a fragment is not a complete file (else it needs no marker)."""
        path = tmp_path / "alone.yml"
        path.write_text(example.text)
        assert cli("validate", str(path)).status == 3, example.id
