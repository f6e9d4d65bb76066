"""The harness deletes and copies a benchmark's output only inside the workdir.

These requests bypass the controller (whose job-file check refuses such outputs): the
host side must refuse them on its own, by the real path, symlinks resolved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.execute.test_harness import request, run_harness, steps_of


@pytest.fixture
def lab(tmp_path: Path) -> dict[str, Path]:
    """A workdir, and beside it a file and a folder that must survive every case."""
    work = tmp_path / "work"
    work.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "inside.txt").write_text("keep me too\n")
    return {"work": work, "victim": victim, "folder": folder}


def one_step(lab: dict[str, Path], output: str, shell: str = "touch started") -> dict[str, Any]:
    events = run_harness(
        request(lab["work"], [{"id": "b0-r1", "kind": "run", "shell": shell, "output": output}])
    )
    return steps_of(events)["b0-r1"]


def untouched(lab: dict[str, Path]) -> bool:
    return (
        lab["victim"].read_text() == "keep me\n"
        and (lab["folder"] / "inside.txt").read_text() == "keep me too\n"
    )


class TestStaleOutputRemoval:
    @pytest.mark.parametrize("name", ["../victim.txt", "../folder", "sub/../../folder", "."])
    def test_outside_by_name(self, lab: dict[str, Path], name: str) -> None:
        """`..`, or the workdir itself: refused, nothing deleted, the step not started."""
        (lab["work"] / "sub").mkdir()
        step = one_step(lab, name)
        assert untouched(lab) and lab["work"].is_dir()
        assert "outside the workdir" in step["error"] or "the workdir itself" in step["error"]
        assert not (lab["work"] / "started").exists()
        assert step["exit"] == 126

    def test_absolute(self, lab: dict[str, Path]) -> None:
        """An absolute path outside the workdir: refused, nothing deleted."""
        step = one_step(lab, str(lab["victim"]))
        assert untouched(lab) and "outside the workdir" in step["error"]

    def test_symlink_out(self, lab: dict[str, Path]) -> None:
        """A symlink in the workdir that points out is refused, the link and target kept."""
        (lab["work"] / "result.json").symlink_to(lab["victim"])
        (lab["work"] / "d").symlink_to(lab["folder"])
        for name in ("result.json", "d", "d/inside.txt"):
            step = one_step(lab, name)
            assert untouched(lab) and "outside the workdir" in step["error"], name
        assert (lab["work"] / "result.json").is_symlink()

    def test_symlink_inside_is_fine(self, lab: dict[str, Path]) -> None:
        """A symlink that stays inside the workdir is an ordinary output."""
        (lab["work"] / "real").mkdir()
        (lab["work"] / "link").symlink_to(lab["work"] / "real")
        step = one_step(lab, "link/out.json", shell="echo '{}' > link/out.json")
        assert step["error"] is None and Path(step["output"]).read_text() == "{}\n"


class TestOutputCollection:
    def test_a_link_out_made_by_the_benchmark_is_not_copied(self, lab: dict[str, Path]) -> None:
        """A benchmark that leaves a symlink to a file outside: the file is not copied."""
        step = one_step(lab, "out.json", shell=f"ln -s {lab['victim']} out.json")
        assert step["output"] is None and "outside the workdir" in step["error"]
        assert not list((lab["work"] / "out").glob("*.output"))
        assert untouched(lab)

    def test_a_step_id_cannot_lead_out_of_the_run_folder(self, lab: dict[str, Path]) -> None:
        """The copy goes to <rundir>/<id>.output, replacing what is there: an id with a '/'
        would replace a folder elsewhere, so it is refused."""
        outside = lab["work"].parent / "victim.output"
        outside.mkdir()
        (outside / "keep.txt").write_text("keep\n")
        events = run_harness(
            request(
                lab["work"],
                [
                    {
                        "id": "../../victim",
                        "kind": "run",
                        "shell": "mkdir -p d && echo 1 > d/x",
                        "output": "d",
                    }
                ],
            )
        )
        step = steps_of(events)["../../victim"]
        assert (outside / "keep.txt").read_text() == "keep\n"
        assert step["output"] is None and "not a plain name" in step["error"]
