"""The controller side of ``get_tree``: check patterns, trust nothing in a host's manifest.

:mod:`perflab.transport.artifacts` lists the files (on the host); this module
turns its answer into errors or checked entries, and copies trees for the
local transport. The SSH transport downloads the same entries over SFTP.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from perflab.errors import HostError, InputError
from perflab.transport import artifacts
from perflab.transport.base import FileInfo


@dataclass(frozen=True)
class Entry:
    """One file of a manifest: where it goes (``rel``), where to read it, what it must be."""

    rel: str
    path: str
    size: int
    sha256: str


def check_patterns(patterns: Sequence[str]) -> list[str]:
    """Refuse absolute and ``..`` patterns before anything is asked of the host."""
    if isinstance(patterns, str):
        patterns = [patterns]
    try:
        for pattern in patterns:
            artifacts.check_pattern(pattern)
    except artifacts.ArtifactError as exc:
        raise InputError(exc.message, field="artifacts") from None
    return list(patterns)


def entries(runner: str, answer: Mapping[str, Any]) -> list[Entry]:
    """The manifest's files, or the host's refusal as an error naming the runner."""
    if "error" in answer:
        if answer.get("kind") == "pattern":
            raise InputError(str(answer["error"]), field="artifacts")
        raise HostError(runner, str(answer["error"]))
    found = []
    try:
        for item in answer["files"]:
            rel = artifacts.check_rel(str(item["rel"]))
            found.append(Entry(rel, str(item["path"]), int(item["size"]), str(item["sha256"])))
    except artifacts.ArtifactError as exc:
        raise HostError(runner, f"refusing the host's artifact list: {exc.message}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise HostError(runner, f"malformed artifact list from the host: {exc!r}") from None
    return found


def destination(local_dir: Path, rel: str) -> Path:
    """``local_dir/rel``; ``rel`` was checked to be a plain relative path."""
    target = local_dir.joinpath(*rel.split("/"))
    if not target.resolve().is_relative_to(local_dir.resolve()):
        raise InputError(f"artifact {rel} would land outside {local_dir} (a symlink there?)")
    return target


def receive(runner: str, entry: Entry, target: Path, chunks: Iterable[bytes]) -> FileInfo:
    """Write ``chunks`` to ``target`` via a temporary file, checking size and sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as handle:
            size = _copy(chunks, handle, digest, entry.size)
        if size != entry.size or digest.hexdigest() != entry.sha256:
            raise HostError(
                runner,
                f"{entry.path} changed while being copied "
                f"(size {entry.size} -> {size}, or its sha256 differs)",
            )
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return FileInfo(str(target), size, entry.sha256)


def _copy(chunks: Iterable[bytes], handle: IO[bytes], digest: Any, limit: int) -> int:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return size  # grew while copying: the caller reports it
        digest.update(chunk)
        handle.write(chunk)
    return size


def file_chunks(path: str, chunk: int = 1 << 20) -> Iterable[bytes]:
    with Path(path).open("rb") as handle:
        yield from iter(lambda: handle.read(chunk), b"")


def local_get_tree(
    runner: str,
    root: str,
    patterns: Sequence[str],
    local_dir: Path,
    *,
    max_bytes: int | None = None,
    max_files: int | None = None,
) -> list[FileInfo]:
    """``get_tree`` for the local transport: same checks, copies instead of downloads."""
    patterns = check_patterns(patterns)
    answer = artifacts.handle(
        {
            "op": "tree",
            "root": root,
            "patterns": patterns,
            "max_files": max_files,
            "max_bytes": max_bytes,
        }
    )
    return [
        receive(runner, entry, destination(local_dir, entry.rel), file_chunks(entry.path))
        for entry in entries(runner, answer)
    ]
