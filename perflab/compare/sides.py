"""One side of a comparison: a stored run, a baseline name, or a result file.

A reference is tried as a file first (any format `perflab parse` reads), then
as a run id (or unique prefix), then as a baseline name, which is resolved for
the other side's job, platform and branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from perflab.errors import InputError
from perflab.model import ResultSet

if TYPE_CHECKING:
    from perflab.store import Store


@dataclass
class Side:
    ref: str
    kind: str  # run | baseline | file
    label: str
    result: ResultSet
    run_id: str | None = None
    job: str | None = None
    platform: str | None = None
    branch: str | None = None
    runner: str | None = None
    fingerprint: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)
    status: str | None = None
    job_spec: dict[str, Any] = field(default_factory=dict)
    experiment: str | None = None
    variant: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    #: per (benchmark, metric): the repetition of each sample, to pair A/B runs
    repetitions: dict[tuple[str, str], list[int | None]] = field(default_factory=dict)
    #: the stored runs this side is made of (a baseline of several runs has more than one)
    run_ids: list[str] = field(default_factory=list)
    #: per (benchmark, metric): each sample's (run, process) labels; empty for a file
    groups: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "label": self.label,
            "run_id": self.run_id,
            "job": self.job,
            "platform": self.platform,
            "branch": self.branch,
            "runner": self.runner,
            "fingerprint": self.fingerprint,
            "status": self.status,
            "baseline": self.baseline,
            "runs": list(self.run_ids),
        }

    @property
    def noise_probe_failure(self) -> str | None:
        return self._flag("infra_contention_suspected")

    @property
    def contamination(self) -> str | None:
        """The message of the run's ``contaminated`` flag (other work on its CPUs)."""
        return self._flag("contaminated")

    def _flag(self, code: str) -> str | None:
        found = [str(f.get("message")) for f in self.flags if f.get("code") == code]
        return " | ".join(dict.fromkeys(found)) if found else None


def groups_of(
    repetitions: dict[tuple[str, str], list[int | None]],
    run: int = 0,
    per_run: int | None = None,
) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(run, process) labels per sample: a sample's repetition is its process (one
    process per repetition); a sample without one is a process of its own. A stored run
    of a ``runs: N`` job is N runs: repetitions ``(k-1)*per_run+1 .. k*per_run`` are its
    run ``run + k - 1``."""
    from itertools import repeat

    from perflab.stats.hierarchy import Labels

    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for key, reps in repetitions.items():
        # the common cases at C speed: one run of numbered processes (flat if distinct),
        # or no repetitions at all (a result file's samples: each a process of its own)
        known = cast("list[int]", reps)  # when None is not in it
        if None not in reps and (not per_run or max(known, default=0) <= per_run):
            distinct = bool(known) and len(set(known)) == len(known)
            out[key] = Labels(zip(repeat(run), known), flat=distinct)
            continue
        if reps and reps.count(None) == len(reps):
            out[key] = Labels(zip(repeat(run), range(-1, -1 - len(reps), -1)), flat=True)
            continue
        out[key] = [
            (
                run + (max(rep - 1, 0) // per_run if per_run and rep is not None else 0),
                rep if rep is not None else -1 - i,
            )
            for i, rep in enumerate(reps)
        ]
    return out


def per_run_of(spec: dict[str, Any]) -> int | None:
    """Processes per run of a stored ``runs: N`` run (None: the run is one run)."""
    from perflab.spec.job import processes_per_run

    return processes_per_run(spec)


def run_side(
    store: Store,
    run_ref: str,
    *,
    kind: str = "run",
    label: str | None = None,
    baseline: dict[str, Any] | None = None,
) -> Side:
    view = store.runs.get(run_ref)
    fields = view.fields
    repetitions = view.sample_repetitions
    spec = dict(fields.get("job_spec") or {})
    return Side(
        repetitions=repetitions,
        run_ids=[view.id],
        groups=groups_of(repetitions, per_run=per_run_of(spec)),
        ref=run_ref,
        kind=kind,
        label=label or f"run {view.id}",
        result=view.result,
        run_id=view.id,
        job=view.job,
        platform=fields.get("platform"),
        branch=fields.get("branch"),
        runner=view.runner,
        fingerprint=fields.get("fingerprint"),
        environment=view.environments.get("before") or {},
        flags=list(fields.get("flags") or []),
        status=view.status,
        job_spec=dict(fields.get("job_spec") or {}),
        experiment=fields.get("experiment"),
        variant=fields.get("variant"),
        baseline=baseline,
    )


def file_side(path: Path) -> Side:
    from perflab.formats import parse_path

    result = parse_path(path, "auto")
    return Side(ref=str(path), kind="file", label=path.name, result=result)


def resolve_side(ref: str, store: Store, *, context: Side | None = None) -> Side:
    """A run id, a baseline name (for ``context``'s job/platform/branch), or a result file."""
    path = Path(ref)
    if path.exists():
        return file_side(path)
    try:
        store.runs.resolve(ref)
    except InputError as run_error:
        if context is None:
            if store.baselines.current(ref):
                raise InputError(
                    f'"{ref}" is a baseline name; compare it with a run or a file '
                    "(the run tells which job and platform)"
                ) from None
            raise InputError(
                f'no run, baseline or file "{ref}"',
                hint="`perflab results list`, `perflab baseline list`",
            ) from run_error
        record = store.baselines.resolve(
            ref, job=context.job, platform=context.platform, branch=context.branch
        )
        if record["run_id"] is None:
            raise InputError(f'baseline "{ref}" points to a run that was deleted') from None
        return run_side(
            store,
            record["run_id"],
            kind="baseline",
            label=f"baseline {ref} (run {record['run_id']})",
            baseline=record,
        )
    return run_side(store, ref)
