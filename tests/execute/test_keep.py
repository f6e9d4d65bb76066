"""Which files of a run folder go into the store, and in which order."""

from __future__ import annotations

from pathlib import Path

from perflab.execute.keep import sources


def folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "run"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


class TestSources:
    def test_order_and_what_is_left_out(self, tmp_path: Path) -> None:
        """Evidence first, then steps in the order they ran, then artifacts; result.json
        (the stored run itself) and the stream logs that the steps' files hold whole are
        not stored twice."""
        root = folder(
            tmp_path,
            {
                "result.json": b"{}",
                "harness.log": b"",
                "job.yaml": b"name: j\n",
                "steps/b0-r10.stdout": b"ten\n",
                "steps/b0-r2.stdout": b"two\n",
                "steps/b0-r2.stderr": b"e\n",
                "steps/stdout.log": b"two\nten\n",
                "steps/stderr.log": b"e\n",
                "artifacts/out.json": b"[]",
            },
        )
        (root / "artifacts" / "link").symlink_to("/etc/hostname")
        found = [(s.name, s.size) for s in sources(root)]
        assert found == [
            ("harness.log", 0),
            ("job.yaml", 8),
            ("steps/b0-r2.stderr", 2),
            ("steps/b0-r2.stdout", 4),
            ("steps/b0-r10.stdout", 4),
            ("artifacts/out.json", 2),
        ]

    def test_stream_logs_not_split_are_kept(self, tmp_path: Path) -> None:
        """When the steps' files do not hold the whole stream log (a run stopped before
        its outputs were split), the log is stored."""
        root = folder(
            tmp_path,
            {
                "steps/stdout.log": b"one\ntwo\n",
                "steps/b0-r1.stdout": b"one\n",
                "steps/stderr.log": b"",
            },
        )
        names = [s.name for s in sources(root)]
        assert names == ["steps/b0-r1.stdout", "steps/stdout.log"]

    def test_a_source_reads_the_file(self, tmp_path: Path) -> None:
        """A source opens its file in binary mode when read."""
        root = folder(tmp_path, {"events.jsonl": b"\x00\xff{}\n"})
        [source] = sources(root)
        with source.open() as handle:
            assert handle.read() == b"\x00\xff{}\n"
