"""Artifact manifests: which files a job's patterns name, and the checks that keep them inside.

This module runs ON the host (the SSH transport sends its source with
``python3 -c``, a JSON request on stdin) and in-process for the local
transport, so the escape checks are one implementation. It is standard
library only and Python 3.8 compatible, and imports nothing from perflab.

A pattern is a path or glob relative to the job's workdir (``root``):
``results.json``, ``out/*.csv``, ``logs/**/*.log``, or a directory (copied
whole). Absolute patterns, ``..`` components and anything whose real path
(after symlinks) is outside ``root`` are refused, never skipped.

Requests: ``{"op": "tree", "root", "patterns", "max_files", "max_bytes"}`` and
``{"op": "stat", "paths"}``. Answers: ``{"files": [...]}`` with ``rel``
(relative to root), ``path`` (real path to read), ``size``, ``sha256``; or
``{"error": message, "kind": "pattern"|"escape"|"limit"|"missing"}``.
"""

# Host-side code works on plain string paths with os.path, as the Python 3.8 stdlib does:
# ruff: noqa: PTH110, PTH112, PTH116, PTH118, PTH123, PTH207
from __future__ import annotations

import glob
import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterator
from typing import Any

GLOB_CHARS = "*?["


class ArtifactError(Exception):
    """A refused pattern or file; ``kind`` is pattern, escape, limit or missing."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def check_pattern(pattern: str) -> str:
    """The pattern, normalized; ArtifactError(kind="pattern") if it could leave the workdir."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ArtifactError("pattern", f"artifact pattern {pattern!r} is empty")
    if pattern.startswith(("/", "~")) or (len(pattern) > 1 and pattern[1] == ":"):
        raise ArtifactError(
            "pattern",
            f"artifact pattern {pattern!r} is absolute; patterns are relative to the job's workdir",
        )
    parts = pattern.replace("\\", "/").split("/")
    if ".." in parts:
        raise ArtifactError(
            "pattern",
            f"artifact pattern {pattern!r} contains '..'; patterns may not leave the job's workdir",
        )
    return "/".join(p for p in parts if p not in ("", "."))


def check_rel(rel: str) -> str:
    """A manifest's relative path, refused unless it is plainly inside (no abs, no ``..``)."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ArtifactError("escape", f"manifest path {rel!r} is not a plain relative path")
    return rel


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _escape(pattern: str, found: str, real: str, root: str) -> ArtifactError:
    return ArtifactError(
        "escape",
        f"artifact pattern {pattern!r} refused: {found} resolves to "
        f"{real}, outside the workdir {root} (a symlink out)",
    )


def _walk(pattern: str, top: str, root: str) -> Iterator[tuple[str, str]]:
    """Regular files under directory ``top`` (symlinked directories are not entered)."""
    for here, dirs, files in os.walk(top):
        dirs.sort()
        for name in dirs + sorted(files):
            path = os.path.join(here, name)
            real = os.path.realpath(path)
            if not _inside(real, root):
                raise _escape(pattern, path, real, root)
        for name in sorted(files):
            path = os.path.join(here, name)
            yield from _regular(path)


def _regular(path: str) -> Iterator[tuple[str, str]]:
    real = os.path.realpath(path)
    if os.path.exists(real) and stat.S_ISREG(os.stat(real).st_mode):
        yield path, real


def _matches(pattern: str, root: str) -> Iterator[tuple[str, str]]:
    """(path as found, real path) of the regular files the pattern names."""
    clean = check_pattern(pattern)
    if any(c in clean for c in GLOB_CHARS):
        found = sorted(glob.glob(os.path.join(glob.escape(root), clean), recursive=True))
    else:
        joined = os.path.join(root, clean)
        found = [joined] if os.path.lexists(joined) else []
    for path in found:
        real = os.path.realpath(path)
        if not _inside(real, root):
            raise _escape(pattern, path, real, root)
        if os.path.isdir(real):
            yield from _walk(pattern, path, root)
        else:
            yield from _regular(path)


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree(
    root: str, patterns: list[str], max_files: int | None = None, max_bytes: int | None = None
) -> list[dict[str, object]]:
    """The files named by ``patterns`` under ``root``, checked against the limits, hashed."""
    if not os.path.isdir(root):
        raise ArtifactError("missing", f"workdir {root} does not exist")
    real_root = os.path.realpath(root)
    chosen: dict[str, str] = {}
    for pattern in patterns:
        for path, real in _matches(pattern, real_root):
            rel = os.path.relpath(path, real_root).replace(os.sep, "/")
            chosen.setdefault(check_rel(rel), real)
            if max_files is not None and len(chosen) > max_files:
                raise ArtifactError(
                    "limit", f"artifacts: more than {max_files} files match {', '.join(patterns)}"
                )
    sizes = {rel: os.stat(real).st_size for rel, real in chosen.items()}
    total = sum(sizes.values())
    if max_bytes is not None and total > max_bytes:
        raise ArtifactError(
            "limit",
            f"artifacts: {len(sizes)} files of {total} bytes in all, "
            f"over the limit of {max_bytes} bytes",
        )
    return [
        {"rel": rel, "path": chosen[rel], "size": sizes[rel], "sha256": sha256(chosen[rel])}
        for rel in sorted(chosen)
    ]


def stat_files(paths: list[str]) -> list[dict[str, object]]:
    """Size and sha256 of each regular file (for put/get verification)."""
    answer: list[dict[str, object]] = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError as exc:
            raise ArtifactError("missing", f"{path}: {exc.strerror}") from None
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactError("missing", f"{path} is not a regular file")
        answer.append({"rel": path, "path": path, "size": info.st_size, "sha256": sha256(path)})
    return answer


def _limit(value: object) -> int | None:
    return value if isinstance(value, int) else None


def handle(request: dict[str, Any]) -> dict[str, object]:
    """Answer one request (see the module docstring); errors become ``{"error", "kind"}``."""
    try:
        if request.get("op") == "stat":
            return {"files": stat_files([str(p) for p in request["paths"]])}
        return {
            "files": tree(
                str(request["root"]),
                [str(p) for p in request["patterns"]],
                _limit(request.get("max_files")),
                _limit(request.get("max_bytes")),
            )
        }
    except ArtifactError as exc:
        return {"error": exc.message, "kind": exc.kind}
    except OSError as exc:
        return {"error": f"{exc.filename or ''}: {exc.strerror}", "kind": "missing"}


def main() -> None:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdout.write(json.dumps(handle(request)))


if __name__ == "__main__":
    main()
