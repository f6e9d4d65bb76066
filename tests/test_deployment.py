"""The deployment files (Dockerfile, compose.yaml, docs/deployment.md) name only what
perflab has: every perflab command and option they run exists in the CLI (asked with
`perflab ... --help`, as a user would), and every PERFLAB_* variable they set is one
perflab reads."""

from __future__ import annotations

import ast
import functools
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


#: `docker run` / `docker compose run` options that take a value (the image or service
#: name comes after them)
VALUED = frozenset(
    {
        "-v",
        "--volume",
        "-w",
        "--workdir",
        "-e",
        "--env",
        "--name",
        "-u",
        "--user",
        "-p",
        "--publish",
        "--entrypoint",
        "--network",
        "--env-file",
    }
)


# -- reading the files -------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments out."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, rest = pending.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "compose.yaml").read_text()))


def perflab_services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the perflab image (built here)."""
    return {
        name: svc
        for name, svc in doc["services"].items()
        if "build" in svc or str(svc.get("image", "")).startswith("perflab")
    }


def _joined_lines(text: str) -> Iterator[str]:
    """Lines with shell continuations joined, comment markers taken off."""
    pending = ""
    for line in text.splitlines():
        line = re.sub(r"^\s*#\s?", "", line).rstrip()
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        yield pending
        pending = ""


def _after_image(words: list[str], image: str) -> list[str] | None:
    """The arguments after ``image`` in ``docker [compose] run [options] image args``."""
    i = words.index("run") + 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in VALUED else 1
    if i < len(words) and words[i] == image:
        return words[i + 1 :]
    return None


def named_commands(text: str, *, bare: bool = False) -> list[list[str]]:
    """perflab command lines in comments or code blocks: ``docker run ... perflab ARGS``,
    ``docker compose run ... perflab ARGS``, ``ExecStart=/path/perflab ARGS`` and, when
    ``bare``, a line that starts with ``perflab``."""
    found = []
    for line in _joined_lines(text):
        line = line.strip().strip("`")
        try:
            words = shlex.split(line.split(" # ")[0])
        except ValueError:
            continue
        if words[:2] == ["docker", "run"] or words[:3] == ["docker", "compose", "run"]:
            args = _after_image(words, "perflab")
            if args is not None:
                found.append(args)
        elif words and (
            (words[0].startswith("ExecStart=") and words[0].endswith("/perflab"))
            or (bare and words[0] == "perflab")
        ):
            found.append(words[1:])
    return found


def dockerfile_commands() -> list[list[str]]:
    """The image's default command (the entrypoint is perflab), and those its comments
    show."""
    text = (REPO / "Dockerfile").read_text()
    instructions = dict(dockerfile_instructions(text))
    entrypoint = json.loads(instructions["ENTRYPOINT"])
    assert entrypoint[-1] == "perflab", entrypoint
    return [json.loads(instructions["CMD"]), *named_commands(text)]


def compose_commands() -> list[list[str]]:
    """Each perflab service's command, and those the file's comments show."""
    doc = compose()
    out = []
    for name, svc in perflab_services(doc).items():
        assert "entrypoint" not in svc, f"{name}: the image's entrypoint (perflab) is used"
        command = svc["command"]
        out.append(shlex.split(command) if isinstance(command, str) else list(command))
    return out + named_commands((REPO / "compose.yaml").read_text())


def code_blocks(markdown: str) -> str:
    """The text of a Markdown file's fenced code blocks."""
    return "\n".join(re.findall(r"^```[^\n]*\n(.*?)^```", markdown, re.M | re.S))


def docs_commands() -> list[list[str]]:
    """The commands in docs/deployment.md's code blocks."""
    return named_commands(code_blocks((REPO / "docs" / "deployment.md").read_text()), bare=True)


def set_variables() -> dict[str, str]:
    """Every PERFLAB_* variable the files set, and where."""
    found: dict[str, str] = {}
    for word, rest in dockerfile_instructions((REPO / "Dockerfile").read_text()):
        if word == "ENV":
            for pair in shlex.split(rest):
                found[pair.split("=", 1)[0]] = "Dockerfile ENV"
    for name, svc in compose()["services"].items():
        env = svc.get("environment") or {}
        names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        found.update(dict.fromkeys(names, f"compose.yaml services.{name}.environment"))
    for path in (REPO / "Dockerfile", REPO / "compose.yaml", REPO / "docs" / "deployment.md"):
        text = path.read_text()
        for name in re.findall(r"(?:-e |Environment=|^export |^)(PERFLAB_\w+)=", text, re.M):
            found[name] = path.name
    return {n: where for n, where in found.items() if n.startswith("PERFLAB_")}


def variables_perflab_reads() -> set[str]:
    """The settings' variables, PERFLAB_HOME, and every PERFLAB_* name the code reads with
    os.environ.get, os.environ[...] or os.getenv (host-side helpers aside: they read the
    runner's environment, not the controller's)."""
    from perflab.config.definitions import SETTINGS

    names = {s.variable for s in SETTINGS} | {"PERFLAB_HOME"}
    for path in (REPO / "perflab").rglob("*.py"):
        if "hostside" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            key = None
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) in ("os.environ.get", "os.getenv", "environ.get")
                and node.args
            ):
                key = node.args[0]
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                key = node.slice
            if isinstance(key, ast.Constant) and str(key.value).startswith("PERFLAB_"):
                names.add(str(key.value))
    return names


# -- asking the CLI ------------------------------------------------------------------------


@functools.cache
def cli_help(*path: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "perflab", *path, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _subcommands(help_text: str) -> set[str]:
    if "\nCommands:\n" not in help_text:
        return set()
    block = help_text.split("\nCommands:\n", 1)[1]
    return {m.group(1) for m in re.finditer(r"^  (\S+)", block, re.M)}


def problems(argv: list[str]) -> list[str]:
    """What in ``perflab ARGV`` the CLI does not have: a command, or an option."""
    path: list[str] = []
    for word in argv:
        if word.startswith("-"):
            break
        status, text = cli_help(*path)
        commands = _subcommands(text)
        if not commands:
            break  # an argument of a command
        if word not in commands:
            return [f"perflab {' '.join([*path, word])}: no such command"]
        path.append(word)
    status, text = cli_help(*path)
    if status != 0:
        return [f"perflab {' '.join(path)} --help: exit {status}: {text.strip()[-300:]}"]
    options = text.split("Options:", 1)[-1]
    out = []
    for word in argv[len(path) :]:
        if word.startswith("-") and word != "-":
            option = word.split("=", 1)[0]
            if not re.search(rf"(?:^|[\s,/]){re.escape(option)}(?=[\s,=/]|$)", options, re.M):
                out.append(f"perflab {' '.join(path)}: no option {option}")
    if _subcommands(text) and not {"--help", "-h", "--version"} & set(argv):
        out.append(f"perflab {' '.join(path)}: names no subcommand")
    return out


# -- the tests -----------------------------------------------------------------------------


class TestCommandsExist:
    def test_dockerfile(self) -> None:
        """The Dockerfile's CMD and the commands its comments show exist in the CLI."""
        commands = dockerfile_commands()
        assert len(commands) >= 2
        assert [p for argv in commands for p in problems(argv)] == []

    def test_compose(self) -> None:
        """Every perflab service's command (worker, beat, the CLI) and the commands the
        compose file's comments show exist."""
        commands = compose_commands()
        assert ["beat"] in commands
        assert any(argv[:1] == ["worker"] for argv in commands)
        assert [p for argv in commands for p in problems(argv)] == []

    def test_deployment_guide(self) -> None:
        """The commands docs/deployment.md tells a lab to run exist, systemd's too."""
        commands = docs_commands()
        assert any(argv[:2] == ["runner", "import"] for argv in commands)
        assert any(argv[:1] == ["submit"] for argv in commands)
        assert any(argv[:1] == ["worker"] for argv in commands)
        assert [p for argv in commands for p in problems(argv)] == []

    def test_the_check_finds_what_is_missing(self) -> None:
        """A misspelt command, an unknown option and a group without a subcommand are
        found; so the three tests above could fail."""
        assert problems(["worker", "--all", "--concurency", "2"]) == [
            "perflab worker: no option --concurency"
        ]
        assert problems(["runner", "imprt", "x.yml"]) == ["perflab runner imprt: no such command"]
        assert problems(["sweeep"]) == ["perflab sweeep: no such command"]
        assert problems(["runner"]) == ["perflab runner: names no subcommand"]
        assert problems(["submit", "job.yaml", "--group", "lab", "--wait"]) == []


class TestVariables:
    def test_every_variable_set_is_read(self) -> None:
        """Each PERFLAB_* variable the Dockerfile, compose.yaml or the guide sets is one
        perflab reads (a misspelt one would be silently ignored)."""
        found = set_variables()
        assert {"PERFLAB_DB_URL", "PERFLAB_BROKER_URL", "PERFLAB_HOME"} <= found.keys()
        unknown = {n: w for n, w in found.items() if n not in variables_perflab_reads()}
        assert unknown == {}

    def test_the_reader_list_is_the_code(self) -> None:
        """The list of variables comes from the code: settings and direct reads both."""
        names = variables_perflab_reads()
        assert {
            "PERFLAB_DB_URL",
            "PERFLAB_HOME",
            "PERFLAB_DB_RETRY_S",
            "PERFLAB_ATTEMPT_MARGIN_S",
        } <= names
        assert "PERFLAB_DB_URI" not in names


class TestDeploymentShape:
    def test_image_runs_as_a_user(self) -> None:
        """The image ends as a non-root user, with perflab as its entrypoint, its home a
        volume, and every path it copies present in the repository."""
        instructions = dockerfile_instructions((REPO / "Dockerfile").read_text())
        users = [rest for word, rest in instructions if word == "USER"]
        assert users and users[-1].split(":")[0] not in ("root", "0")
        ignored = (REPO / ".dockerignore").read_text().split()
        for word, rest in instructions:
            if word == "COPY":
                for source in shlex.split(rest)[:-1]:
                    assert (REPO / source).exists(), source
                    assert source not in ignored, source

    def test_compose_services(self) -> None:
        """Redis keeps an append-only file on a volume; PostgreSQL has a volume and a
        healthcheck; worker and beat wait for both, and take the URLs from the
        environment."""
        doc = compose()
        services = doc["services"]
        redis = services["redis"]
        assert "--appendonly" in redis["command"]
        assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
        assert any(v.endswith(":/data") for v in redis["volumes"])
        postgres = services["postgres"]
        assert any("/var/lib/postgresql/data" in v for v in postgres["volumes"])
        assert "pg_isready" in postgres["healthcheck"]["test"]
        for name in ("worker", "beat"):
            svc = services[name]
            assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
            assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
            assert svc["environment"]["PERFLAB_DB_URL"].startswith("postgresql+psycopg://")
            assert "@postgres:5432/" in svc["environment"]["PERFLAB_DB_URL"]
            assert svc["environment"]["PERFLAB_BROKER_URL"] == "redis://redis:6379/0"
            assert any(v.endswith(":/home/perflab/.ssh:ro") for v in svc["volumes"])
        for volume in ("redis-data", "postgres-data", "perflab-home"):
            assert volume in doc["volumes"]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (apt-get install docker-compose)",
)
def test_compose_reads_the_file() -> None:
    """docker-compose itself (Debian's 1.29: no daemon needed) reads compose.yaml, and
    finds the services, the CLI's behind its profile."""
    base = ["docker-compose", "-f", str(REPO / "compose.yaml")]
    done = subprocess.run(
        [*base, "config", "-q"], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    services = subprocess.run(
        [*base, "--profile", "cli", "config", "--services"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert set(services.split()) == {"redis", "postgres", "worker", "beat", "perflab"}


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _docker_works(), reason="no docker daemon on this machine")
def test_the_image_builds_and_runs_as_perflab(tmp_path: Path) -> None:
    """`docker build` makes an image whose user is not root and whose perflab answers."""
    tag = f"perflab-test:{tmp_path.name.lower()}"
    subprocess.run(["docker", "build", "-t", tag, str(REPO)], check=True, timeout=1800)
    try:
        whoami = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert whoami.strip() != "0"
        version = subprocess.run(
            ["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True, check=True
        ).stdout
        assert "perflab" in version
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
