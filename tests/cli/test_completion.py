"""Shell completion: the scripts click generates, and what a real bash completes with them."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from perflab.store import open_store

INVENTORY = """\
all:
  children:
    gpu:
      hosts:
        lab1: {ansible_host: 127.0.0.11}
        lab2: {ansible_host: 127.0.0.12}
    arm:
      hosts:
        pi-1: {ansible_host: 127.0.0.13}
"""


@pytest.fixture
def shell_env(tmp_path: Path, home: Path) -> dict[str, str]:
    """A PATH whose `perflab` runs this checkout, and the test's own PERFLAB_HOME."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "perflab"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m perflab "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_PERFLAB", "COMP_"))}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env["PERFLAB_HOME"] = str(home)
    env.pop("PERFLAB_DB_URL", None)
    return env


def source(env: dict[str, str], shell: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["perflab"],
        check=False,
        env={**env, "_PERFLAB_COMPLETE": f"{shell}_source"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def bash_complete(env: dict[str, str], tmp_path: Path, *words: str) -> list[str]:
    """What bash offers for the command line ``words`` (the last one is being typed): the
    generated script sourced in a real bash, its function called as bash would on TAB."""
    script = tmp_path / "perflab-complete.bash"
    script.write_text(source(env, "bash").stdout)
    line = " ".join(shlex.quote(w) for w in ("perflab", *words))
    code = (
        f"source {shlex.quote(str(script))}\n"
        f"COMP_WORDS=({line}); COMP_CWORD={len(words)}\n"
        "_perflab_completion perflab\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr
    return [w for w in done.stdout.splitlines() if w]


@pytest.fixture
def lab(home: Path, tmp_path: Path) -> dict[str, str]:
    """Runners from an inventory, two stored runs and a baseline: what TAB should offer."""
    from tests.compare.conftest import ENV

    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    with open_store() as store:
        from perflab.runners.registry import import_inventory

        import_inventory(store, inventory)
        for run_id in ("c0ffee01", "c0ffee02", "beef0003"):
            store.runs.create_run(
                run_id,
                job="j",
                job_sha256="0" * 64,
                job_spec={"name": "j"},
                runner="local",
                platform="linux-x86_64",
                status="completed",
                perflab_version="test",
            )
            store.runs.add_environment(run_id, "before", ENV)
        store.baselines.record(
            name="nightly",
            job="j",
            platform="linux-x86_64",
            branch="main",
            run_id="c0ffee01",
            action="set",
            reason=None,
            set_by="t",
        )
    return {"inventory": str(inventory)}


class TestScripts:
    @pytest.mark.parametrize(
        ("shell", "marker"),
        [
            ("bash", "complete -o nosort -F _perflab_completion perflab"),
            ("zsh", "#compdef perflab"),
            ("fish", "complete --no-files --command perflab"),
        ],
    )
    def test_the_script_is_printed_and_nothing_else(
        self, shell_env, home: Path, shell: str, marker: str
    ) -> None:
        """`_PERFLAB_COMPLETE=<shell>_source perflab` prints the script and exits 0: no
        "unexpected error", no crash log (it used to report SystemExit as a bug)."""
        done = source(shell_env, shell)
        assert done.returncode == 0, done.stderr
        assert marker in done.stdout
        assert done.stderr == ""
        assert not (home / "logs").exists() or not list((home / "logs").iterdir())

    def test_a_tab_press_is_not_a_crash(self, shell_env, home: Path) -> None:
        """The completion protocol call that bash makes on TAB exits 0 with the words."""
        done = subprocess.run(
            ["perflab"],
            check=False,
            env={
                **shell_env,
                "_PERFLAB_COMPLETE": "bash_complete",
                "COMP_WORDS": "perflab ru",
                "COMP_CWORD": "1",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["plain,run", "plain,runner"]
        assert done.stderr == ""
        assert not (home / "logs").exists()


class TestBash:
    def test_commands_and_options(self, shell_env, tmp_path: Path) -> None:
        """Subcommands and options complete in a real bash."""
        assert bash_complete(shell_env, tmp_path, "ru") == ["run", "runner"]
        assert bash_complete(shell_env, tmp_path, "runner", "sh") == ["show"]
        assert bash_complete(shell_env, tmp_path, "results", "list", "--li") == ["--limit"]
        assert bash_complete(shell_env, tmp_path, "--no") == ["--no-color"]

    def test_runner_and_group_names_from_the_store(self, shell_env, tmp_path: Path, lab) -> None:
        """Runner arguments and --runner offer the registered runners and `local`; --group
        the inventory's groups."""
        assert bash_complete(shell_env, tmp_path, "runner", "show", "") == [
            "local",
            "lab1",
            "lab2",
            "pi-1",
        ]
        assert bash_complete(shell_env, tmp_path, "run", "job.yaml", "--runner", "l") == [
            "local",
            "lab1",
            "lab2",
        ]
        assert bash_complete(shell_env, tmp_path, "prepare", "lab1", "") == [
            "local",
            "lab2",
            "pi-1",
        ], "a runner already named is not offered again"
        assert bash_complete(shell_env, tmp_path, "runner", "ping", "--group", "") == ["arm", "gpu"]

    def test_run_ids_and_baseline_names(self, shell_env, tmp_path: Path, lab) -> None:
        """RUN arguments offer stored run ids, compare's sides baseline names too."""
        assert bash_complete(shell_env, tmp_path, "results", "show", "c0f") == [
            "c0ffee02",
            "c0ffee01",
        ]
        assert bash_complete(shell_env, tmp_path, "compare", "") == [
            "nightly",
            "beef0003",
            "c0ffee02",
            "c0ffee01",
        ]
        assert bash_complete(shell_env, tmp_path, "baseline", "show", "n") == ["nightly"]

    def test_profiles(self, shell_env, tmp_path: Path) -> None:
        """--profile offers the shipped profiles by name."""
        assert bash_complete(shell_env, tmp_path, "prepare", "--profile", "") == [
            "bare-metal",
            "laptop",
            "shield",
        ]


class TestStoreTrouble:
    def test_an_unreachable_database_still_completes_local(
        self, shell_env, tmp_path: Path, home: Path
    ) -> None:
        """A store that cannot be opened costs the store's names, never the TAB press."""
        env = {**shell_env, "PERFLAB_DB_URL": "postgresql+psycopg://u@127.0.0.1:1/none"}
        assert bash_complete(env, tmp_path, "runner", "show", "") == ["local"]
        assert bash_complete(env, tmp_path, "results", "show", "") == []
        assert not (home / "logs").exists()

    def test_a_damaged_database_still_completes_local(
        self, shell_env, tmp_path: Path, home: Path
    ) -> None:
        """A file that is not a database: no names from it, no error."""
        home.mkdir(parents=True, exist_ok=True)
        (home / "perflab.db").write_bytes(b"not a database" * 100)
        assert bash_complete(shell_env, tmp_path, "runner", "show", "") == ["local"]

    def test_tab_creates_no_database(self, shell_env, tmp_path: Path, home: Path) -> None:
        """Completing before anything was stored does not create (or migrate) the store."""
        assert bash_complete(shell_env, tmp_path, "results", "show", "") == []
        assert not (home / "perflab.db").exists()


class TestOtherShells:
    @pytest.mark.parametrize(
        ("shell", "cword", "expected"),
        [
            ("zsh", "3", ["plain", "lab1", "_", "plain", "lab2", "_"]),
            ("fish", "lab", ["plain,lab1", "plain,lab2"]),
        ],
    )  # fish passes the word being typed
    def test_store_names_in_the_zsh_and_fish_protocols(
        self, shell_env, lab, shell: str, cword: str, expected: list[str]
    ) -> None:
        """zsh and fish ask the same question in their own protocol and get the same names."""
        done = subprocess.run(
            ["perflab"],
            check=False,
            env={
                **shell_env,
                "_PERFLAB_COMPLETE": f"{shell}_complete",
                "COMP_WORDS": "perflab runner show lab",
                "COMP_CWORD": cword,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == expected


class TestSpeed:
    def test_names_from_sqlite_without_sqlalchemy(self, lab) -> None:
        """The default store answers a TAB press with the standard library's sqlite3:
        SQLAlchemy (hundreds of ms to import) is not loaded."""
        code = (
            "import sys; from perflab.store import complete; "
            "print(complete.runner_names('')); "
            "print([run_id for run_id, _ in complete.run_ids('c0f')]); "
            "print('sqlalchemy' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
        ).stdout.splitlines()
        assert out == ["['lab1', 'lab2', 'pi-1']", "['c0ffee02', 'c0ffee01']", "False"]

    def test_profiles_without_jsonschema(self) -> None:
        """Profile names come from the playbook folders, without loading the schema
        validator (a fifth of a second on this machine)."""
        code = (
            "import sys; from perflab.cli.complete import profiles; "
            "print([i.value for i in profiles(None, None, 'sh')][1:]); "
            "print('jsonschema' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        assert out == ["['shield']", "False"]
