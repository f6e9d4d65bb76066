"""A/B mode: baseline and candidate in one job, on one host, interleaved, compared paired.

A job's ``ab:`` section names what differs, either

- ``vary: KEY`` with two ``values`` (any ``--vary`` key: an environment
  variable, ``benchmarks.0.command`` ...), or
- ``refs: [A, B]``: two git refs of the workdir's repository; each variant
  runs in a clean export of its ref (``git archive``), with the same setup
  steps, so both are built the same way.

The two variants run as one experiment: round r runs repetition r of both,
in turns A B, B A ... (``order: abba``) or shuffled (``order: random`` with
``seed``), so drift of the host hits both alike. Repetition r of A and of B
form a pair, and the comparison is on the paired ratios.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab.errors import InputError
from perflab.execute.vary import Variable, variant_jobs
from perflab.spec.job import Job

if TYPE_CHECKING:
    from perflab.execute.experiment import ExperimentOutcome
    from perflab.execute.runner import Reporter, RunOptions
    from perflab.prepare.host import RunnerHost
    from perflab.spec.playbook import Profile
    from perflab.store import Store


def _export(job: Job, ref: str, target: Path) -> None:
    """A clean copy of ``ref`` of the workdir's repository (the job's own folder in it)."""
    where = job.location("ab.refs")
    try:
        top = subprocess.run(
            ["git", "-C", job.workdir, "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        inside = str(Path(job.workdir).resolve().relative_to(Path(top).resolve()))
        data = subprocess.run(
            ["git", "-C", top, "archive", "--format=tar", ref], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        text = detail.decode(errors="replace").strip() if isinstance(detail, bytes) else detail
        raise InputError(
            f'cannot export git ref "{ref}" of {job.workdir}: {text or exc}',
            location=where,
            field="ab.refs",
        ) from None
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="data")
    if inside != ".":
        (target / ".perflab-subdir").write_text(inside)


@contextlib.contextmanager
def ab_variants(job: Job, pin: Any = None) -> Iterator[tuple[Variable, list[Job] | None]]:
    """The experiment's variable, and ready-made jobs for git refs (exports removed after)."""
    spec = job.raw["ab"]
    if "vary" in spec:
        variable = Variable(str(spec["vary"]), [str(v) for v in spec["values"]])
        variant_jobs(job, variable, pin)  # validates the key and both variants up front
        yield variable, None
        return
    refs = [str(r) for r in spec["refs"]]
    folder = Path(tempfile.mkdtemp(prefix="perflab-ab-"))
    try:
        jobs = []
        for index, ref in enumerate(refs):
            target = folder / f"{'ab'[index]}"
            target.mkdir()
            _export(job, ref, target)
            sub = (
                target / (target / ".perflab-subdir").read_text()
                if (target / ".perflab-subdir").exists()
                else target
            )
            raw = {k: v for k, v in job.raw.items() if k != "workdir"}
            jobs.append(replace(job, workdir=str(sub), raw=raw))
        yield Variable("ref", refs), jobs
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_ab(
    job: Job,
    host: RunnerHost,
    store: Store,
    *,
    profile: Profile | None,
    opts: RunOptions,
    reporter: Reporter | None = None,
) -> ExperimentOutcome:
    from perflab.execute.experiment import run_experiment

    spec = job.raw["ab"]
    with ab_variants(job, opts.pin) as (variable, jobs):
        return run_experiment(
            job,
            variable,
            host,
            store,
            profile=profile,
            opts=opts,
            reporter=reporter,
            jobs=jobs,
            order=spec.get("order", "abba"),
            seed=int(spec.get("seed", 0)),
        )


#: the environment variable that names the program in ``perflab ab JOB OLD NEW`` with two
#: binaries: the job's command runs ``"$PERFLAB_AB_BINARY"``
BINARY_VAR = "PERFLAB_AB_BINARY"


def with_ab(job: Job, baseline: str, candidate: str, *, order: str = "abba") -> Job:
    """``job`` in A/B mode between two programs (two existing files: each variant gets
    its absolute path in ``$PERFLAB_AB_BINARY``) or two git refs of its workdir (anything
    else), for ``perflab ab``. A job in A/B mode already is refused."""
    if job.raw.get("ab") is not None:
        raise InputError(
            "the job has its own ab: section; run it with `perflab run`",
            location=job.location("ab"),
            field="ab",
        )
    files = [Path(v) for v in (baseline, candidate)]
    if all(f.is_file() for f in files):
        if not _mentions(job.raw, BINARY_VAR):
            raise InputError(
                f'expected the job\'s commands to run "${BINARY_VAR}" (the '
                "program being compared), got commands that never use it, so "
                "both variants would run the same program",
                location=job.location("benchmarks"),
                field="benchmarks",
            )
        spec: dict[str, Any] = {
            "vary": f"env.{BINARY_VAR}",
            "values": [str(f.resolve()) for f in files],
        }
    elif any(f.is_file() for f in files):
        missing = next(
            v for v, f in zip((baseline, candidate), files, strict=True) if not f.is_file()
        )
        raise InputError(
            f"expected two programs or two git refs, got one file and "
            f'"{missing}", which is not a file',
            field="CANDIDATE",
        )
    else:
        spec = {"refs": [baseline, candidate]}
    return replace(job, raw={**job.raw, "ab": {**spec, "order": order}})


def _mentions(value: Any, name: str) -> bool:
    if isinstance(value, str):
        return name in value
    if isinstance(value, dict):
        return any(_mentions(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, name) for v in value)
    return False
