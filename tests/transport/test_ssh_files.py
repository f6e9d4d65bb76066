"""put / get / get_tree over SFTP against a real sshd, with sha256 checks and refusals."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.errors import HostError, InputError
from tests.fleet import Fleet, FleetHost

pytestmark = pytest.mark.root

WORKDIR = "/tmp/perflab-test-workdir"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def workdir(fleet: Fleet) -> Iterator[tuple[FleetHost, str]]:
    """A job workdir on host "files" with outputs, a subdirectory and symlinks in and out."""
    host = fleet.host("files")
    script = f"""
        set -e; rm -rf {WORKDIR}; mkdir -p {WORKDIR}/out/deep {WORKDIR}/logs
        printf one > {WORKDIR}/out/a.json; printf two > {WORKDIR}/out/b.json
        printf csv > {WORKDIR}/out/c.csv; printf deep > {WORKDIR}/out/deep/d.json
        printf log > {WORKDIR}/logs/run.log; printf top > {WORKDIR}/result.txt
        ln -s out/a.json {WORKDIR}/latest.json
    """
    assert host.exec("sh", "-c", script).returncode == 0
    yield host, WORKDIR
    host.exec("rm", "-rf", WORKDIR, "/tmp/perflab-test-put")


class TestPut:
    def test_put_creates_parents_sets_mode_and_verifies(
        self, fleet: Fleet, ssh, tmp_path: Path
    ) -> None:
        """put creates parent directories, applies the mode, returns the verified sha256."""
        host = fleet.host("files")
        local = tmp_path / "payload.bin"
        local.write_bytes(b"\x00perflab\xff" * 50_000)
        info = ssh(host).put(local, "/tmp/perflab-test-put/x/y/payload.bin", mode=0o640)
        assert info.sha256 == sha(local.read_bytes())
        assert info.size == local.stat().st_size
        listing = host.exec("stat", "-c", "%a %s", "/tmp/perflab-test-put/x/y/payload.bin")
        assert listing.stdout.split() == ["640", str(info.size)]
        leftovers = host.exec("find", "/tmp/perflab-test-put", "-name", "*.part").stdout
        assert leftovers == ""

    def test_put_over_existing_keeps_its_mode(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """Replacing a file without a mode keeps the old file's mode (as the local copy does)."""
        host = fleet.host("files")
        local = tmp_path / "script.sh"
        local.write_text("echo hi\n")
        t = ssh(host)
        t.put(local, "/tmp/perflab-test-put/script.sh", mode=0o755)
        local.write_text("echo changed\n")
        t.put(local, "/tmp/perflab-test-put/script.sh")
        assert t.run(["/tmp/perflab-test-put/script.sh"]).stdout == b"changed\n"

    def test_put_failure_names_the_cause(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """A destination that cannot be written is a HostError; no temporary file remains."""
        host = fleet.host("files")
        local = tmp_path / "f"
        local.write_text("x")
        host.exec("sh", "-c", "mkdir -p /tmp/perflab-test-put && touch /tmp/perflab-test-put/file")
        with pytest.raises(HostError, match=r"files: copying .* to /tmp/perflab-test-put/file/x"):
            ssh(host).put(local, "/tmp/perflab-test-put/file/x")


class TestGet:
    def test_get_copies_and_verifies(self, workdir, ssh, tmp_path: Path) -> None:
        """get copies one file and returns its sha256, checked against the host's hash."""
        host, root = workdir
        info = ssh(host).get(f"{root}/out/a.json", tmp_path / "sub" / "a.json")
        assert (tmp_path / "sub" / "a.json").read_bytes() == b"one"
        assert info.sha256 == sha(b"one") and info.size == 3

    def test_get_over_limit_refused(self, workdir, ssh, tmp_path: Path) -> None:
        """A file over max_bytes is refused before any byte is copied."""
        host, root = workdir
        with pytest.raises(HostError, match="over the limit of 2"):
            ssh(host).get(f"{root}/out/a.json", tmp_path / "a.json", max_bytes=2)
        assert not (tmp_path / "a.json").exists()

    def test_get_missing_file(self, workdir, ssh, tmp_path: Path) -> None:
        """A missing remote file is a HostError naming it."""
        host, root = workdir
        with pytest.raises(HostError, match=r"files: .*/nope: No such file"):
            ssh(host).get(f"{root}/nope", tmp_path / "x")


class TestGetTree:
    def test_globs_and_directories(self, workdir, ssh, tmp_path: Path) -> None:
        """Globs resolve on the host; a directory comes whole; the layout is kept."""
        host, root = workdir
        files = ssh(host).get_tree(root, ["out/*.json", "logs", "result.txt"], tmp_path)
        got = {Path(f.path).relative_to(tmp_path).as_posix(): f.sha256 for f in files}
        assert got == {
            "out/a.json": sha(b"one"),
            "out/b.json": sha(b"two"),
            "logs/run.log": sha(b"log"),
            "result.txt": sha(b"top"),
        }
        assert (tmp_path / "logs" / "run.log").read_bytes() == b"log"

    def test_recursive_glob_and_symlink_inside(self, workdir, ssh, tmp_path: Path) -> None:
        """``**`` recurses; a symlink that stays inside the workdir is followed."""
        host, root = workdir
        files = ssh(host).get_tree(root, ["**/*.json"], tmp_path)
        names = sorted(Path(f.path).relative_to(tmp_path).as_posix() for f in files)
        assert names == ["latest.json", "out/a.json", "out/b.json", "out/deep/d.json"]
        assert (tmp_path / "latest.json").read_bytes() == b"one"

    @pytest.mark.parametrize("pattern", ["../etc/passwd", "/etc/passwd", "out/../../x", "~/x"])
    def test_escaping_patterns_refused(self, workdir, ssh, tmp_path: Path, pattern: str) -> None:
        """Absolute, home-relative and ``..`` patterns are bad input, refused up front."""
        host, root = workdir
        with pytest.raises(InputError, match="artifact pattern"):
            ssh(host).get_tree(root, [pattern], tmp_path)

    def test_symlink_out_refused(self, workdir, ssh, tmp_path: Path) -> None:
        """A symlink pointing out of the workdir is refused, naming where it leads."""
        host, root = workdir
        host.exec("ln", "-s", "/etc", f"{root}/out/escape")
        with pytest.raises(HostError, match=r"resolves to /etc.*outside the workdir"):
            ssh(host).get_tree(root, ["out"], tmp_path / "artifacts")
        assert not (tmp_path / "artifacts").exists()

    def test_limits(self, workdir, ssh, tmp_path: Path) -> None:
        """More files than max_files, or more bytes than max_bytes in all, are refused."""
        host, root = workdir
        t = ssh(host)
        with pytest.raises(HostError, match="more than 2 files"):
            t.get_tree(root, ["out"], tmp_path, max_files=2)
        with pytest.raises(HostError, match="over the limit of 10 bytes"):
            t.get_tree(root, ["out"], tmp_path, max_bytes=10)

    def test_missing_workdir(self, fleet: Fleet, ssh, tmp_path: Path) -> None:
        """A workdir that does not exist is a HostError naming it."""
        with pytest.raises(HostError, match="workdir /nonexistent/perflab does not exist"):
            ssh(fleet.host("files")).get_tree("/nonexistent/perflab", ["x"], tmp_path)

    def test_no_match_is_empty(self, workdir, ssh, tmp_path: Path) -> None:
        """A pattern matching nothing yields no files (artifacts may be optional)."""
        host, root = workdir
        assert ssh(host).get_tree(root, ["*.none"], tmp_path) == []
