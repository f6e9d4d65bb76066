"""`perflab submit` of a job matrix: one queued job per combination, each tagged with its
values, run by a real worker; the bound on the expansion refused before anything is queued."""

from __future__ import annotations

import json
from pathlib import Path

from tests.jobqueue.conftest import Lab, write_job

#: each combination's benchmark checks it sees its own values (text and environment)
CHECK = (
    '[sh, -c, \'test "$PERFLAB_MATRIX_A-$PERFLAB_MATRIX_B" = "${{ matrix.a }}-${{ matrix.b }}"\']'
)
CELLS = [
    {"a": "1", "b": "x"},
    {"a": "1", "b": "y"},
    {"a": "2", "b": "x"},
    {"a": "2", "b": "y"},
]


class TestSubmitMatrix:
    def test_one_job_per_combination(self, lab: Lab, tmp_path: Path) -> None:
        """A 2x2 matrix is four queued jobs (their ids and cells printed, in order), listed
        and shown with their cells; a worker runs each as its own combination, and four
        runs are stored, each tagged with its values."""
        job = write_job(tmp_path, "mx", CHECK, runs=1, extra="matrix: {a: [1, 2], b: [x, y]}\n")
        done = lab.perflab("submit", str(job), "--json")
        assert done.returncode == 0, done.stderr
        queued = json.loads(done.stdout)["jobs"]
        assert [q["matrix"] for q in queued] == CELLS
        ids = [q["job_id"] for q in queued]
        assert len(set(ids)) == 4
        listed = json.loads(lab.perflab("jobs", "list", "--json").stdout)["jobs"]
        assert {j["job_id"]: j["matrix"] for j in listed} == dict(zip(ids, CELLS, strict=True))
        assert all(j["state"] == "queued" and j["name"] == "mx" for j in listed)
        assert len({j["bundle"] for j in listed}) == 1, "one frozen bundle for every cell"
        table = lab.perflab("jobs", "list").stdout
        assert all(f"a={c['a']},b={c['b']}" in table for c in CELLS), table
        shown = lab.perflab("jobs", "show", ids[1]).stdout
        assert "matrix a=1,b=y" in shown, shown
        lab.worker()
        stored = {}
        for job_id, cell in zip(ids, CELLS, strict=True):
            finished = lab.wait_for(job_id, ("done", "failed", "cancelled"))
            assert finished["state"] == "done", finished
            assert finished["matrix"] == cell
            [run_id] = finished["run_ids"]
            run = lab.run_doc(run_id)
            assert run["status"] == "completed" and run["job"] == "mx"
            stored[run_id] = run["matrix"]
        assert sorted(stored.values(), key=lambda c: (c["a"], c["b"])) == CELLS
        listed = json.loads(lab.perflab("results", "list", "--json").stdout)["runs"]
        assert {r["run_id"]: r["matrix"] for r in listed} == stored

    def test_wait_follows_every_job_and_exits_with_the_worst(
        self, lab: Lab, tmp_path: Path
    ) -> None:
        """submit --wait follows every combination's job; one whose benchmark fails makes
        the exit status 1; --json is one document with every finished job."""
        job = write_job(
            tmp_path,
            "mw",
            "[sh, -c, 'test \"${{ matrix.v }}\" = ok']",
            runs=1,
            extra="matrix: {v: [ok, bad]}\n",
        )
        lab.worker()
        done = lab.perflab("submit", str(job), "--wait", "--json")
        assert done.returncode == 1, done.stderr + lab.logs()[-2000:]
        finished = json.loads(done.stdout)["jobs"]
        assert [(j["matrix"], j["state"]) for j in finished] == [
            ({"v": "ok"}, "done"),
            ({"v": "bad"}, "failed"),
        ]
        text = lab.perflab("submit", str(job), "--wait")
        assert text.returncode == 1
        assert "[v=ok]" in text.stderr and "[v=bad]" in text.stderr, text.stderr

    def test_over_the_limit_exits_3_before_anything_is_queued(
        self, lab: Lab, tmp_path: Path
    ) -> None:
        """A matrix past matrix_max: one error line at the file's matrix key naming the
        count and the setting, exit 3, no job queued."""
        job = write_job(
            tmp_path, "ml", "['true']", runs=1, extra="matrix: {a: [1, 2], b: [x, y]}\n"
        )
        done = lab.perflab("submit", str(job), "--json", PERFLAB_MATRIX_MAX="3")
        assert done.returncode == 3, done.stderr
        errors = [line for line in done.stderr.splitlines() if "error" in line]
        assert errors == [
            f"perflab: error: {job}:7:9: matrix: expected a matrix of at most 3 jobs "
            "(the matrix_max setting), got 4 (a 2 x b 2)"
        ], done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
        assert json.loads(lab.perflab("jobs", "list", "--json").stdout)["jobs"] == []
