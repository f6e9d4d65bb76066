"""Where a job runs on the runner, and cleaning up after it.

On the local runner the job's workdir is used in place. On a remote runner an
absolute ``workdir`` in the job file names a directory *on the runner*; a
relative (or default) one is the job's folder here, uploaded for the run as
one tar archive (one transfer, one extraction) into ``/tmp/perflab-work-<run>``
and removed afterwards with the run's host-side output folder: nothing of
perflab stays on a runner between jobs.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from perflab.errors import HostError, InputError
from perflab.spec.job import Job
from perflab.transport.base import Transport

MAX_UPLOAD_BYTES = 256 * 1024 * 1024
SKIP = {".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", "target", "node_modules"}


@dataclass
class Workspace:
    workdir: str
    rundir: str
    remove: list[str] = field(default_factory=list)

    def close(self, transport: Transport) -> None:
        if self.remove:
            with contextlib.suppress(HostError):
                transport.run(["rm", "-rf", "--", *self.remove], timeout=120)


def _archive(folder: Path) -> bytes:
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if any(part in SKIP for part in relative.parts) or not path.is_file():
                continue
            total += path.stat().st_size
            if total > MAX_UPLOAD_BYTES:
                raise InputError(
                    f"the workdir {folder} is over {MAX_UPLOAD_BYTES >> 20} MiB; "
                    "give an absolute workdir that exists on the runner instead",
                    field="workdir",
                )
            tar.add(path, arcname=str(relative), recursive=False)
    return buffer.getvalue()


def _upload(job: Job, transport: Transport, target: str) -> None:
    data = _archive(Path(job.workdir))
    with tempfile.NamedTemporaryFile(prefix="perflab-work-", suffix=".tar.gz") as handle:
        handle.write(data)
        handle.flush()
        transport.put(Path(handle.name), f"{target}.tar.gz")
    transport.check(
        f"mkdir -p {target} && tar -xzf {target}.tar.gz -C {target} && rm -f {target}.tar.gz",
        timeout=300,
    )


def open_workspace(job: Job, transport: Transport, run_id: str, local_rundir: Path) -> Workspace:
    if transport.shares_files:
        return Workspace(job.workdir, str(local_rundir))
    rundir = f"/tmp/perflab-run-{run_id}"
    given = job.raw.get("workdir")
    if given and Path(str(given)).is_absolute():
        return Workspace(str(given), rundir, [rundir])
    target = f"/tmp/perflab-work-{run_id}"
    _upload(job, transport, target)
    return Workspace(target, rundir, [target, rundir])
