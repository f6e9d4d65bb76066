"""The project's promises about itself: the README's commands, the layout, CI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.compare.conftest import home, make_run  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quickstart)[:2]


class TestQuickstart:
    def test_two_commands(self) -> None:
        """The quickstart is two commands: run the main job, run the whole suite."""
        run, test = readme_commands()
        assert run.endswith("perflab run examples/quickstart.yaml")
        assert "pytest" in test and "[test]" in test

    def test_ci_calls_the_readme_test_command(self) -> None:
        """.ci/run runs exactly the README's test command."""
        _, test = readme_commands()
        lines = (REPO / ".ci" / "run").read_text().splitlines()
        assert test in lines

    def test_top_level_layout(self) -> None:
        """The fixed top level is all there."""
        for name in (
            "pyproject.toml",
            "perflab",
            "inventories",
            "playbooks",
            "schemas",
            "tests",
            "Dockerfile",
            "README.md",
            "examples",
            "bench",
            "docs",
            ".ci/run",
        ):
            assert (REPO / name).exists(), name


class TestStartup:
    def test_version_does_not_import_heavy_libraries(self) -> None:
        """`perflab --version` must not pay for sqlalchemy, scipy, celery, paramiko, rich."""
        code = (
            "import sys; from perflab.cli.main import run_cli; run_cli(['--version']); "
            "heavy = [m for m in ('sqlalchemy', 'scipy', 'numpy', 'celery', 'paramiko', "
            "'fabric', 'rich', 'jsonschema', 'yaml', 'alembic') if m in sys.modules]; "
            "print('HEAVY', heavy)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout
        assert "HEAVY []" in out

    def test_help_does_not_import_the_store_or_statistics(self) -> None:
        """`perflab --help` imports every command's module for its one-line help; a module
        that imported the store at its top (the job states, for `jobs list --state`) made
        it 1.2 s instead of 0.3 s."""
        code = (
            "import sys; from perflab.cli.main import run_cli\n"
            "try:\n    run_cli(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('sqlalchemy', 'scipy', 'numpy', 'celery', 'alembic', "
            "'matplotlib') if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        ).stderr
        assert "HEAVY []" in out

    def test_listing_results_does_not_import_numpy(self, make_run) -> None:
        """The store packs and unpacks samples with the standard library's ``array``:
        numpy's import was a sixth of `perflab results list` (0.40 -> 0.35 s)."""
        run_id = make_run({"BM_a": {"time": [1.0, 2.0, 3.0]}})  # in $PERFLAB_HOME
        code = (
            "import sys; from perflab.cli.main import run_cli\n"
            "try:\n    run_cli(['results', 'list'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('numpy', 'scipy') if m in sys.modules], "
            "file=sys.stderr)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=REPO
        )
        assert run_id in done.stdout, done.stderr
        assert "HEAVY []" in done.stderr


class TestPins:
    def test_every_dependency_is_pinned_for_ci(self) -> None:
        """.ci/constraints.txt pins every package the README's test command installs: a
        dependency added to pyproject.toml without `.ci/lock` fails here, not in CI later."""
        import tomllib

        project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
        wanted = project["dependencies"] + project["optional-dependencies"]["test"]

        def norm(name: str) -> str:
            return re.sub(r"[-_.]+", "-", name).lower()

        names = {norm(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in wanted}
        pins = {}
        for line in (REPO / ".ci" / "constraints.txt").read_text().splitlines():
            if line and not line.startswith("#"):
                name, _, version = line.partition("==")
                assert version, f"not an exact pin: {line!r}"
                pins[norm(name)] = version
        assert len(names) > 5 and sorted(names - set(pins)) == []
