"""A job frozen at submit time, so it no longer depends on the submitting machine.

:func:`freeze` takes the job as loaded (its YAML text), the profile it names
(its YAML text too) and its workdir as one archive, with the same limits and
skip list as an upload to a runner (``perflab.execute.workspace``). The
bundle is content-addressed: its id is the sha256 of the spec and of every
file's path, mode and content, so submitting the same job twice stores it
once. It is kept in the store's database, which every worker reads;
:func:`thaw` turns it back into a job whose workdir is a folder on the worker.

A job whose ``workdir`` is an absolute path names a folder on the runner: it
is not archived. An A/B job between git refs carries its repository (``.git``),
which must then be its workdir's top level.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from perflab.errors import InputError
from perflab.execute.workspace import MAX_UPLOAD_BYTES, SKIP
from perflab.spec.job import Job, parse_job
from perflab.spec.playbook import Profile, parse_profile
from perflab.spec.yamlpos import read_text

VERSION = 1


@dataclass(frozen=True)
class Bundle:
    sha256: str
    spec: dict[str, Any]
    archive: bytes | None


def _files(folder: Path, skip: set[str]) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in skip for part in relative.parts):
            continue
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def _archive(folder: Path, skip: set[str], digest: Any) -> bytes:
    """A reproducible tar.gz of ``folder`` (no times, owners or gzip stamp); each file's
    path, mode and content go into ``digest`` too."""
    buffer = io.BytesIO()
    total = 0
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in _files(folder, skip):
            data = path.read_bytes()
            total += len(data)
            if total > MAX_UPLOAD_BYTES:
                raise InputError(
                    f"the workdir {folder} is over the bundle limit of "
                    f"{MAX_UPLOAD_BYTES >> 20} MiB",
                    field="workdir",
                    hint="give an absolute workdir that exists on the runner, or "
                    "leave build outputs out of the job's folder",
                )
            name = path.relative_to(folder).as_posix()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), path.stat().st_mode & 0o777
            tar.addfile(info, io.BytesIO(data))
            digest.update(f"{name}\0{info.mode:o}\0".encode() + hashlib.sha256(data).digest())
    return buffer.getvalue()


def _profile_spec(profile: Profile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    text = read_text(profile.path) if profile.path is not None else None
    if text is None:
        raise InputError(f"profile {profile.name} has no file to freeze", field="--profile")
    return {
        "name": profile.name,
        "file": profile.path.name if profile.path else "profile.yml",
        "yaml": text,
    }


def freeze(job: Job, profile: Profile | None) -> Bundle:
    """The bundle of ``job`` (as loaded from its file) and ``profile``."""
    if job.path is None:
        raise InputError("a job given as text cannot be submitted: give its file")
    given = job.raw.get("workdir")
    on_runner = bool(given) and Path(str(given)).is_absolute()
    skip = set(SKIP)
    if (job.raw.get("ab") or {}).get("refs"):
        if not (Path(job.workdir) / ".git").exists():
            raise InputError(
                "an A/B job between git refs is submitted with its repository: "
                f"its workdir ({job.workdir}) must be the repository's top level",
                location=job.location("ab.refs"),
                field="ab.refs",
            )
        skip.discard(".git")
    spec = {
        "version": VERSION,
        "job_file": job.path.name,
        "job_yaml": read_text(job.path),
        "profile": _profile_spec(profile),
        "workdir": "runner" if on_runner else "archive",
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
    archive = None if on_runner else _archive(Path(job.workdir), skip, digest)
    return Bundle(digest.hexdigest(), spec, archive)


def thaw(bundle: dict[str, Any], folder: Path) -> tuple[Job, Profile | None]:
    """The job and profile of a stored bundle; the workdir unpacked under ``folder``."""
    spec = bundle["spec"]
    if spec.get("version") != VERSION:
        raise InputError(
            f"job bundle {bundle['sha256'][:12]} has version "
            f"{spec.get('version')!r}; this perflab reads version {VERSION}"
        )
    where = f"bundle:{bundle['sha256'][:12]}/{spec['job_file']}"
    folder.mkdir(parents=True, exist_ok=True)
    job_file = folder / spec["job_file"]
    job_file.write_text(spec["job_yaml"], encoding="utf-8")  # the run folder keeps a copy
    job = replace(parse_job(spec["job_yaml"], where), path=job_file)
    if spec["workdir"] == "archive":
        work = folder / "work"
        work.mkdir(parents=True)
        with (
            gzip.GzipFile(fileobj=io.BytesIO(bundle["archive"] or b"")) as gz,
            tarfile.open(fileobj=gz, mode="r") as tar,
        ):
            tar.extractall(work, filter="data")
        job = replace(job, workdir=str(work))
    profile = None
    if spec.get("profile"):
        text = spec["profile"]["yaml"]
        profile = parse_profile(text, f"bundle:{bundle['sha256'][:12]}/{spec['profile']['file']}")
    return job, profile
