"""The artifact manifest (host side) and the local get_tree, on plain directories."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perflab.errors import HostError, InputError
from perflab.transport import artifacts
from perflab.transport.collect import Entry, destination, entries, local_get_tree, receive


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A workdir: out/{a,b}.json, out/deep/d.json, logs/run.log, a symlink inside."""
    work = tmp_path / "work"
    (work / "out" / "deep").mkdir(parents=True)
    (work / "logs").mkdir()
    (work / "out" / "a.json").write_text("one")
    (work / "out" / "b.json").write_text("two")
    (work / "out" / "deep" / "d.json").write_text("deep")
    (work / "logs" / "run.log").write_text("log")
    (work / "latest.json").symlink_to("out/a.json")
    return work


def rels(answer: list[dict[str, object]]) -> list[object]:
    return [item["rel"] for item in answer]


class TestCheckPattern:
    @pytest.mark.parametrize("pattern", ["/etc/passwd", "../x", "a/../../x", "~root/x", "", " "])
    def test_refused(self, pattern: str) -> None:
        """Absolute, home, ``..`` and empty patterns are refused as pattern errors."""
        with pytest.raises(artifacts.ArtifactError) as caught:
            artifacts.check_pattern(pattern)
        assert caught.value.kind == "pattern"

    def test_normalized(self) -> None:
        """Redundant ``./`` and slashes are dropped; ``a..b`` is a name, not ``..``."""
        assert artifacts.check_pattern("./out//a..b/*.json") == "out/a..b/*.json"


class TestTree:
    def test_patterns_dirs_and_dedup(self, root: Path) -> None:
        """Globs and directories expand to files, each once, sorted, hashed."""
        answer = artifacts.tree(str(root), ["out/*.json", "out", "logs/run.log"])
        assert rels(answer) == ["logs/run.log", "out/a.json", "out/b.json", "out/deep/d.json"]
        first = answer[1]
        assert first["size"] == 3
        assert first["sha256"] == hashlib.sha256(b"one").hexdigest()

    def test_symlink_inside_is_followed(self, root: Path) -> None:
        """A symlink to a file inside the workdir is collected under its own name."""
        answer = artifacts.tree(str(root), ["latest.json"])
        assert rels(answer) == ["latest.json"]
        assert answer[0]["path"] == str((root / "out" / "a.json").resolve())

    def test_symlink_out_refused_directly(self, root: Path, tmp_path: Path) -> None:
        """A pattern naming a symlink that points outside is refused (escape)."""
        (tmp_path / "secret").write_text("s")
        (root / "leak").symlink_to(tmp_path / "secret")
        with pytest.raises(artifacts.ArtifactError, match="outside the workdir") as caught:
            artifacts.tree(str(root), ["leak"])
        assert caught.value.kind == "escape"

    def test_symlink_out_inside_a_directory_refused(self, root: Path) -> None:
        """A symlinked directory leading out, found while copying a directory, is refused."""
        (root / "out" / "etc").symlink_to("/etc")
        with pytest.raises(artifacts.ArtifactError, match="resolves to /etc"):
            artifacts.tree(str(root), ["out"])

    def test_recursive_glob_through_symlink_out_refused(self, root: Path) -> None:
        """``**`` walking into a symlink that leads out is refused, not silently followed."""
        (root / "logs" / "up").symlink_to("/etc")
        with pytest.raises(artifacts.ArtifactError, match="outside the workdir"):
            artifacts.tree(str(root), ["**/*.conf"])

    def test_workdir_itself_a_symlink(self, root: Path, tmp_path: Path) -> None:
        """A workdir reached through a symlink is fine: checks use its real path."""
        link = tmp_path / "worklink"
        link.symlink_to(root)
        assert rels(artifacts.tree(str(link), ["out/a.json"])) == ["out/a.json"]

    def test_limits(self, root: Path) -> None:
        """max_files and max_bytes (total) are enforced before hashing."""
        with pytest.raises(artifacts.ArtifactError, match="more than 1 files"):
            artifacts.tree(str(root), ["out"], max_files=1)
        with pytest.raises(artifacts.ArtifactError, match="2 files of 6 bytes in all") as caught:
            artifacts.tree(str(root), ["out/*.json"], max_bytes=5)
        assert caught.value.kind == "limit"

    def test_special_files_skipped(self, root: Path) -> None:
        """A FIFO (reading it would hang) is not collected."""
        os.mkfifo(root / "out" / "pipe")
        assert "out/pipe" not in rels(artifacts.tree(str(root), ["out"]))


class TestHandle:
    def test_errors_are_answers(self, tmp_path: Path) -> None:
        """The host-side entry point answers errors as data (kind + message)."""
        answer = artifacts.handle({"op": "tree", "root": str(tmp_path / "no"), "patterns": ["x"]})
        assert answer == {"error": f"workdir {tmp_path / 'no'} does not exist", "kind": "missing"}

    def test_stat(self, root: Path) -> None:
        """The stat request hashes the named files."""
        answer = artifacts.handle({"op": "stat", "paths": [str(root / "logs" / "run.log")]})
        assert answer["files"][0]["sha256"] == hashlib.sha256(b"log").hexdigest()


def oldest_python() -> str | None:
    """A working Python 3.8 interpreter (the oldest a runner may have), if this machine has one."""
    candidates = [
        shutil.which("python3.8"),
        *map(str, sorted(Path.home().glob(".pyenv/versions/3.8*/bin/python3.8"))),
    ]
    for candidate in filter(None, candidates):
        check = "import sys; assert sys.version_info[:2] == (3, 8)"
        probe = subprocess.run([candidate, "-c", check], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


class TestAsHostScript:
    @pytest.mark.parametrize("python", [sys.executable, oldest_python()])
    def test_runs_as_python_c(self, root: Path, python: str | None) -> None:
        """The module runs as ``python3 -c SOURCE`` (also on Python 3.8), JSON in and out."""
        if python is None:
            pytest.skip("no Python 3.8 interpreter here")
        request = {"op": "tree", "root": str(root), "patterns": ["out/*.json"]}
        done = subprocess.run(
            [python, "-c", Path(artifacts.__file__).read_text()],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            check=True,
        )
        assert rels(json.loads(done.stdout)["files"]) == ["out/a.json", "out/b.json"]


class TestEntries:
    def test_manifest_paths_are_not_trusted(self) -> None:
        """A host answering ``../`` or absolute paths in its manifest is refused."""
        for rel in ("../evil", "/etc/passwd", "a/../../b", "a//b"):
            answer = {"files": [{"rel": rel, "path": "/x", "size": 1, "sha256": "0"}]}
            with pytest.raises(HostError, match="refusing the host's artifact list"):
                entries("r1", answer)

    def test_pattern_errors_are_input_errors(self) -> None:
        """A pattern refused on the host comes back as bad input."""
        with pytest.raises(InputError):
            entries("r1", {"error": "artifact pattern '/x' is absolute", "kind": "pattern"})

    def test_destination_stays_inside(self, tmp_path: Path) -> None:
        """A local directory holding a symlink out cannot be written through."""
        (tmp_path / "dest").mkdir()
        (tmp_path / "dest" / "out").symlink_to("/tmp")
        with pytest.raises(InputError, match="outside"):
            destination(tmp_path / "dest", "out/x")


class TestLocalGetTree:
    def test_copies_with_checksums(self, root: Path, tmp_path: Path) -> None:
        """The local transport's get_tree copies the same files with verified hashes."""
        files = local_get_tree("local", str(root), ["out/*.json", "logs"], tmp_path / "got")
        assert sorted(Path(f.path).relative_to(tmp_path / "got").as_posix() for f in files) == [
            "logs/run.log",
            "out/a.json",
            "out/b.json",
        ]
        assert (tmp_path / "got" / "out" / "b.json").read_text() == "two"

    def test_refusals(self, root: Path, tmp_path: Path) -> None:
        """Locally too: ``..`` is bad input, a symlink out is a HostError naming the runner."""
        with pytest.raises(InputError):
            local_get_tree("local", str(root), ["../x"], tmp_path / "got")
        (root / "esc").symlink_to("/etc/hostname")
        with pytest.raises(HostError, match=r"^local: .*outside the workdir"):
            local_get_tree("local", str(root), ["esc"], tmp_path / "got")


class TestReceive:
    def test_verified_copy(self, tmp_path: Path) -> None:
        """Bytes matching the manifest land in place with their hash."""
        entry = Entry("a", "/x/a", 3, hashlib.sha256(b"abc").hexdigest())
        info = receive("r1", entry, tmp_path / "a", [b"ab", b"c"])
        assert (tmp_path / "a").read_bytes() == b"abc"
        assert info.sha256 == entry.sha256

    @pytest.mark.parametrize("chunks", [[b"abd"], [b"ab"], [b"abcd"]])
    def test_changed_file_refused(self, tmp_path: Path, chunks: list[bytes]) -> None:
        """Different, shorter or longer bytes than the host hashed: refused, nothing left."""
        entry = Entry("a", "/x/a", 3, hashlib.sha256(b"abc").hexdigest())
        with pytest.raises(HostError, match="r1: /x/a changed while being copied"):
            receive("r1", entry, tmp_path / "a", chunks)
        assert list(tmp_path.iterdir()) == []
