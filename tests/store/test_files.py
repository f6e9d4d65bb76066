"""A run's raw files in the store: compressed, checksummed, within limits, fenced;
on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from perflab.errors import InputError, PerflabError
from perflab.store import Store, open_store
from perflab.store.files import Limits, Source
from perflab.store.leases import LeaseLost
from tests.store.conftest import pg_url  # noqa: F401 (fixture)
from tests.store.test_jobs import add_run, submit

LOG = b"".join(b"BenchmarkSort/%d-2  1000  %d ns/op\n" % (i, 1000 + i) for i in range(2000))


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'files.db'}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with open_store(url) as opened:
        add_run(opened, "run00001")
        yield opened


def flags(store: Store, code: str = "files_truncated") -> list[dict]:
    return [f for f in store.runs.get("run00001").fields["flags"] if f["code"] == code]


class TestPutAndRead:
    def test_files_come_back_exactly(self, store: Store) -> None:
        """Text is stored compressed, tiny and incompressible files as they are; every
        file reads back byte for byte with the sha256 of the original."""
        noise = os.urandom(50_000)
        kept = store.runs.put_files(
            "run00001",
            [
                Source.of_bytes("steps/b0-r1.stdout", LOG),
                Source.of_bytes("harness.log", b"ok\n"),
                Source.of_bytes("artifacts/blob.bin", noise),
                Source.of_bytes("steps/empty", b""),
            ],
        )
        assert kept.files == 4 and kept.truncated == []
        listed = {f["name"]: f for f in store.runs.files("run00001")}
        assert list(listed) == sorted(listed)
        log = listed["steps/b0-r1.stdout"]
        assert log["compression"] == "zlib" and log["stored"] < len(LOG) / 5
        assert log["size"] == len(LOG) and log["sha256"] == hashlib.sha256(LOG).hexdigest()
        assert listed["harness.log"]["compression"] == "none"
        assert listed["artifacts/blob.bin"]["compression"] == "none"
        for name, data in (
            ("steps/b0-r1.stdout", LOG),
            ("harness.log", b"ok\n"),
            ("artifacts/blob.bin", noise),
            ("steps/empty", b""),
        ):
            read = store.runs.read_file("run0", name)
            assert read.data == data and not read.truncated
        assert flags(store) == []

    def test_from_a_path(self, store: Store, tmp_path: Path) -> None:
        """A file on disk is read when it is stored."""
        path = tmp_path / "events.jsonl"
        path.write_bytes(LOG)
        store.runs.put_files("run00001", [Source.of_path("events.jsonl", path)])
        assert store.runs.read_file("run00001", "events.jsonl").data == LOG

    def test_a_file_that_grew_is_stored_whole(self, store: Store) -> None:
        """A file longer than when it was listed (still being written) is stored as read,
        whole while within the limits."""
        store.runs.put_files("run00001", [Source("events.jsonl", 3, lambda: io.BytesIO(LOG))])
        read = store.runs.read_file("run00001", "events.jsonl")
        assert read.data == LOG and read.size == len(LOG) and not read.truncated

    def test_put_again_replaces(self, store: Store) -> None:
        """Putting a run's files again replaces them (no duplicates, no stale flag)."""
        store.runs.put_files(
            "run00001",
            [Source.of_bytes("a", LOG), Source.of_bytes("b", LOG)],
            limits=Limits(file_max=100, run_max=1000),
        )
        assert len(flags(store)) == 1
        store.runs.put_files("run00001", [Source.of_bytes("a", b"new\n")])
        assert [f["name"] for f in store.runs.files("run00001")] == ["a"]
        assert store.runs.read_file("run00001", "a").data == b"new\n"
        assert flags(store) == []

    def test_unknown_file_or_run(self, store: Store) -> None:
        """Asking for a file the run does not have says how to list them."""
        with pytest.raises(InputError, match=r'no file "nope".*perflab results files run00001'):
            store.runs.read_file("run00001", "nope")
        with pytest.raises(InputError, match="no run"):
            store.runs.files("zzzz9999")

    def test_damage_is_detected(self, store: Store) -> None:
        """A stored file whose bytes changed is refused, not returned."""
        from sqlalchemy import update

        from perflab.store.models_queue import RunFileRow

        store.runs.put_files("run00001", [Source.of_bytes("h", b"x" * 100)])
        with store.sessions.begin() as session:
            session.execute(update(RunFileRow).values(data=b"y" * 100, compression="none"))
        with pytest.raises(PerflabError, match="damaged"):
            store.runs.read_file("run00001", "h")


class TestLimits:
    def test_a_file_over_the_cap_is_cut_and_flagged(self, store: Store, tmp_path: Path) -> None:
        """Over the per-file cap: its first and last part are kept, marked truncated, with
        the original's size and sha256; the run gets a flag naming it."""
        path = tmp_path / "big.log"
        path.write_bytes(LOG)
        kept = store.runs.put_files(
            "run00001",
            [Source.of_path("steps/b0-r1.stdout", path), Source.of_bytes("harness.log", b"ok\n")],
            limits=Limits(file_max=1000, run_max=10**6),
        )
        assert kept.truncated == ["steps/b0-r1.stdout"]
        read = store.runs.read_file("run00001", "steps/b0-r1.stdout")
        assert read.truncated and read.size == len(LOG)
        assert read.sha256 == hashlib.sha256(LOG).hexdigest()
        assert read.data.startswith(LOG[:500]) and read.data.endswith(LOG[-500:])
        assert b"bytes cut here" in read.data and len(read.data) < 1200
        [flag] = flags(store)
        assert "steps/b0-r1.stdout" in flag["message"] and "1000 B per file" in flag["message"]
        assert flag["evidence"]["files"] == ["steps/b0-r1.stdout"]
        assert not store.runs.read_file("run00001", "harness.log").truncated

    def test_the_run_total_cuts_the_rest_but_keeps_every_name(self, store: Store) -> None:
        """Past the per-run total, later files are cut (to nothing once it is spent), yet
        each is listed with its size and checksum: nothing is dropped silently."""
        sources = [Source.of_bytes(f"steps/b0-r{i}.stdout", LOG[:600]) for i in range(1, 6)]
        kept = store.runs.put_files(
            "run00001", sources, limits=Limits(file_max=10**6, run_max=1500)
        )
        listed = {f["name"]: f for f in store.runs.files("run00001")}
        assert len(listed) == 5 and all(f["size"] == 600 for f in listed.values())
        assert (
            [n for n, f in listed.items() if f["truncated"]]
            == kept.truncated
            == ["steps/b0-r3.stdout", "steps/b0-r4.stdout", "steps/b0-r5.stdout"]
        )
        assert store.runs.read_file("run00001", "steps/b0-r2.stdout").data == LOG[:600]
        assert store.runs.read_file("run00001", "steps/b0-r5.stdout").data == b""
        assert "1500 B per run" in flags(store)[0]["message"]

    def test_limits_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The caps are read from the environment, in bytes; anything else is refused."""
        assert Limits.from_env() == Limits(64 << 20, 512 << 20)
        monkeypatch.setenv("PERFLAB_FILE_MAX_BYTES", "2097152")
        monkeypatch.setenv("PERFLAB_RUN_FILES_MAX_BYTES", "3000")
        assert Limits.from_env() == Limits(2 << 20, 3000)
        for wrong in ("lots", "64M", "0", "-5"):
            monkeypatch.setenv("PERFLAB_FILE_MAX_BYTES", wrong)
            with pytest.raises(
                InputError,
                match=rf"PERFLAB_FILE_MAX_BYTES.*expected a whole "
                rf'number of bytes > 0, got "{wrong}"',
            ):
                Limits.from_env()

    def test_an_unreadable_file_is_listed(self, store: Store) -> None:
        """A file that cannot be read is still listed (empty, truncated) and flagged."""

        def broken() -> BinaryIO:
            raise PermissionError(13, "Permission denied")

        kept = store.runs.put_files(
            "run00001", [Source("artifacts/secret", 10, broken), Source.of_bytes("ok", b"fine")]
        )
        assert kept.truncated == ["artifacts/secret"]
        listed = {f["name"]: f for f in store.runs.files("run00001")}
        assert listed["artifacts/secret"]["truncated"] and listed["artifacts/secret"]["size"] == 10
        assert "Permission denied" in flags(store)[0]["message"]


class TestFence:
    def test_a_stale_worker_stores_no_file(self, store: Store) -> None:
        """After the lease moved on, the old worker's put raises LeaseLost, stores nothing
        and flags nothing; the current holder's put works."""
        job = submit(store)
        stale = store.jobs.lease(job, "r1", "w1", 0.01)
        assert stale is not None
        time.sleep(0.05)
        store.jobs.requeue_or_fail("r1", stale.token, reason="worker_lost", message="lost")
        fresh = store.jobs.lease(job, "r1", "w2", 60)
        assert fresh is not None
        with pytest.raises(LeaseLost):
            store.fenced(stale).runs.put_files(
                "run00001", [Source.of_bytes("a", LOG)], limits=Limits(file_max=10, run_max=10)
            )
        assert store.runs.files("run00001") == [] and flags(store) == []
        store.fenced(fresh).runs.put_files("run00001", [Source.of_bytes("a", b"mine")])
        assert store.runs.read_file("run00001", "a").data == b"mine"
