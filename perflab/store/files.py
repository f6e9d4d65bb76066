"""The raw files of runs, in the database: readable by every controller and worker.

A run's folder (``$PERFLAB_HOME/runs/<id>`` on the machine that executed it)
is that machine's working area; when the run ends its files are put here, one
row each in ``run_files``, named by their path inside the folder
(``steps/b0-r1.stdout``, ``harness.log``, ``artifacts/...``).

- Compression: zlib at level 1, its window sized to the file (setting up a
  full-size window costs more than compressing a short file). On benchmark
  tools' output and perflab's own logs level 1 compresses at ~240 MB/s to 7.5%,
  level 6 at ~150 MB/s to 6.4% (docs/jobs.md, "Where the evidence goes"). A
  file zlib does not shrink (one line, an archive, an image) is kept as it is
  ("none").
- Checksum: the sha256 of the original file. A read verifies it, and zlib's
  own checksum covers the stored part of a cut file.
- Limits, counted on original bytes so that a reader's memory is bounded too:
  :class:`Limits` (64 MiB per file, 512 MiB per run by default;
  ``PERFLAB_FILE_MAX_BYTES`` and ``PERFLAB_RUN_FILES_MAX_BYTES``). A file
  over its share keeps its first and last part with a marker between them and
  is marked ``truncated``; once a run's total is spent, the files left are
  listed with their size and checksum but no content. Either way the run gets
  a ``files_truncated`` flag naming them: nothing is dropped silently.

Putting a run's files replaces what was stored for it before, in one
transaction (the caller's: :class:`perflab.store.runs.RunStore` checks a
queued job's fence first).
"""

from __future__ import annotations

import hashlib
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import delete, func, insert, select

from perflab.errors import InputError, PerflabError
from perflab.store.models import Run
from perflab.store.models_queue import RunFileRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

LEVEL = 1  # zlib level: the fastest; see the module docstring
TINY = 64  # bytes: shorter files are never worth compressing
FILE_MAX_DEFAULT = 64 << 20
RUN_MAX_DEFAULT = 512 << 20
BATCH_BYTES = 16 << 20  # rows are inserted in batches of about this many stored bytes
FLAG = "files_truncated"
_CHUNK = 1 << 20


class DamagedFile(PerflabError):
    """A stored file whose bytes no longer match its checksum."""


def human(size: int) -> str:
    """``64 MiB``, ``1500 B``: sizes as the limits are written."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class Limits:
    """How much of a run's files the store keeps (original bytes)."""

    file_max: int = FILE_MAX_DEFAULT
    run_max: int = RUN_MAX_DEFAULT

    @classmethod
    def from_env(cls) -> Limits:
        """The ``file_max_bytes`` and ``run_files_max_bytes`` settings (environment, then
        config.yaml; a bad value is exit 3 naming where it came from)."""
        from perflab import config

        chosen = config.settings()
        return cls(int(chosen.file_max_bytes.value), int(chosen.run_files_max_bytes.value))

    def __str__(self) -> str:
        return f"{human(self.file_max)} per file, {human(self.run_max)} per run"


@dataclass(frozen=True)
class Source:
    """A file to store: its name in the run folder, its size, and how to open it (read
    only when it is stored)."""

    name: str
    size: int
    open: Callable[[], BinaryIO]

    @classmethod
    def of_path(cls, name: str, path: Path, size: int | None = None) -> Source:
        return cls(name, path.stat().st_size if size is None else size, lambda: path.open("rb"))

    @classmethod
    def of_bytes(cls, name: str, data: bytes) -> Source:
        import io

        return cls(name, len(data), lambda: io.BytesIO(data))


@dataclass
class Kept:
    """What a put stored: files, their original and stored bytes, the names cut."""

    files: int = 0
    size: int = 0
    stored: int = 0
    truncated: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files that could not be read


@dataclass(frozen=True)
class StoredFile:
    """One file read back: decompressed and verified."""

    name: str
    size: int  # of the original
    sha256: str  # of the original
    truncated: bool
    data: bytes


def compress(data: bytes) -> tuple[str, bytes]:
    """("zlib", compressed) when that is smaller, else ("none", data)."""
    if len(data) < TINY:
        return "none", data
    wbits = max(9, min(15, (len(data) - 1).bit_length()))
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, wbits)
    packed = packer.compress(data) + packer.flush()
    return ("zlib", packed) if len(packed) < len(data) else ("none", data)


def _read(source: Source, keep: int) -> tuple[bytes, str, int]:
    """The bytes to store (the first and last part when the file is over ``keep``), the
    sha256 of the whole file, and its size as read."""
    digest = hashlib.sha256()
    last = keep // 2
    tail: deque[bytes] = deque()
    kept_tail = 0
    with source.open() as handle:
        # as much as the file had when listed (reading ``keep`` bytes at once would
        # allocate that much for every small file), then whatever it grew by since
        head = handle.read(min(keep, source.size)) if keep else b""
        while len(head) < keep and (more := handle.read(min(keep - len(head), 1 << 16))):
            head += more
        digest.update(head)
        size = len(head)
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            tail.append(chunk)
            kept_tail += len(chunk)
            while tail and kept_tail - len(tail[0]) >= last:
                kept_tail -= len(tail.popleft())
    if size <= keep or keep == 0:  # whole, or nothing of it (the run's total is spent)
        return head, digest.hexdigest(), size
    end = (head + b"".join(tail))[-last:] if last else b""
    marker = b"\n[perflab: %d of %d bytes cut here]\n" % (size - keep, size)
    return head[: keep - last] + marker + end, digest.hexdigest(), size


def _row(
    run_id: str, source: Source, keep: int, kept: Kept, now: Any
) -> tuple[dict[str, Any], int]:
    """The file's row, and how many of its original bytes it holds."""
    try:
        data, sha256, size = _read(source, keep)
    except OSError as exc:
        kept.problems.append(f"{source.name}: {exc.strerror or exc}")
        data, sha256, size = b"", "", source.size
    cut = size > keep or sha256 == ""
    method, stored = compress(data)
    kept.files, kept.size, kept.stored = kept.files + 1, kept.size + size, kept.stored + len(stored)
    if cut:
        kept.truncated.append(source.name)
    row = {
        "run_id": run_id,
        "name": source.name,
        "size": size,
        "sha256": sha256,
        "truncated": cut,
        "compression": method,
        "data": stored,
        "created_at": now,
    }
    return row, min(size, keep) if sha256 else 0


def put(session: Session, run_id: str, sources: Sequence[Source], limits: Limits, now: Any) -> Kept:
    """Replace the run's stored files with ``sources``, in order, within ``limits``."""
    run = session.get(Run, run_id)
    if run is None:
        raise KeyError(run_id)
    session.execute(delete(RunFileRow).where(RunFileRow.run_id == run_id))
    kept, left, batch, pending = Kept(), limits.run_max, [], 0
    for source in sources:  # a file's share: what is left, up to the per-file cap
        row, used = _row(run_id, source, min(limits.file_max, left), kept, now)
        left -= used
        batch.append(row)
        pending += len(row["data"])
        if pending >= BATCH_BYTES:
            session.connection().execute(insert(RunFileRow), batch)
            batch, pending = [], 0
    if batch:
        session.connection().execute(insert(RunFileRow), batch)
    flags = [f for f in run.flags or [] if f.get("code") != FLAG]
    flags += [_flag(kept, limits, run)] if kept.truncated else []
    if flags != (run.flags or []):
        run.flags = flags
    return kept


def _flag(kept: Kept, limits: Limits, run: Run) -> dict[str, Any]:
    names = kept.truncated
    shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
    where = (run.controller or {}).get("host")
    message = (
        f"{len(names)} of {kept.files} raw files stored cut to the limits ({limits}; "
        f"PERFLAB_FILE_MAX_BYTES, PERFLAB_RUN_FILES_MAX_BYTES): {shown}; the whole "
        f"files stay in {run.raw_dir or 'the run folder'}"
        f"{f' on {where}' if where else ''}"
    )
    if kept.problems:
        message += "; not readable: " + "; ".join(kept.problems[:3])
    return {
        "code": FLAG,
        "message": message,
        "evidence": {
            "files": names[:100],
            "count": len(names),
            "file_max": limits.file_max,
            "run_max": limits.run_max,
        },
    }


def listing(session: Session, run_id: str) -> list[dict[str, Any]]:
    """The run's stored files (without their content), by name."""
    query = (
        select(
            RunFileRow.name,
            RunFileRow.size,
            func.length(RunFileRow.data),
            RunFileRow.sha256,
            RunFileRow.truncated,
            RunFileRow.compression,
        )
        .where(RunFileRow.run_id == run_id)
        .order_by(RunFileRow.name)
    )
    return [
        {
            "name": name,
            "size": size,
            "stored": stored,
            "sha256": sha256,
            "truncated": truncated,
            "compression": compression,
        }
        for name, size, stored, sha256, truncated, compression in session.execute(query)
    ]


def summary(session: Session, run_id: str) -> dict[str, Any]:
    """How many files the run has in the store, their original and stored bytes, and the
    names of those stored cut (what a run's document says; the list is ``listing``)."""
    count, size, stored = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(RunFileRow.size), 0),
            func.coalesce(func.sum(func.length(RunFileRow.data)), 0),
        ).where(RunFileRow.run_id == run_id)
    ).one()
    cut = session.scalars(
        select(RunFileRow.name)
        .where(RunFileRow.run_id == run_id, RunFileRow.truncated.is_(True))
        .order_by(RunFileRow.name)
    ).all()
    return {"count": int(count), "size": int(size), "stored": int(stored), "truncated": list(cut)}


def read(session: Session, run_id: str, name: str) -> StoredFile:
    """One stored file, decompressed and checked against its checksum."""
    row = session.scalars(
        select(RunFileRow).where(RunFileRow.run_id == run_id, RunFileRow.name == name)
    ).one_or_none()
    if row is None:
        raise InputError(
            f'no file "{name}" stored for run {run_id} (see `perflab results files {run_id}`)'
        )
    return _decoded(row)


def read_many(session: Session, run_id: str, names: Iterable[str]) -> Iterator[StoredFile]:
    """The stored files among ``names``, in that order (a name not stored is skipped),
    fetched a few MiB at a time."""
    stored = {f["name"]: f["stored"] for f in listing(session, run_id)}
    for chunk in _chunks([n for n in names if n in stored], stored):
        rows = {
            r.name: r
            for r in session.scalars(
                select(RunFileRow).where(
                    RunFileRow.run_id == run_id, RunFileRow.name.in_(set(chunk))
                )
            )
        }
        yield from (_decoded(rows[name]) for name in chunk)


def _chunks(names: list[str], stored: dict[str, int]) -> Iterator[list[str]]:
    chunk: list[str] = []
    pending = 0
    for name in names:
        if chunk and (pending + stored[name] > BATCH_BYTES or len(chunk) >= 500):
            yield chunk
            chunk, pending = [], 0
        chunk.append(name)
        pending += stored[name]
    if chunk:
        yield chunk


def _decoded(row: RunFileRow) -> StoredFile:
    damaged = DamagedFile(
        f'file "{row.name}" of run {row.run_id} is damaged in the store: '
        "its bytes do not match the checksum taken when it was stored"
    )
    try:
        data = zlib.decompress(row.data) if row.compression == "zlib" else bytes(row.data)
    except zlib.error:
        raise damaged from None
    if not row.truncated and hashlib.sha256(data).hexdigest() != row.sha256:
        raise damaged
    return StoredFile(row.name, row.size, row.sha256, row.truncated, data)
