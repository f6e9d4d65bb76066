"""Bad input to `perflab sweep`: one line naming what was expected and found, exit 3,
and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

JOB = "name: sj\nbenchmarks: [{name: b, command: ['true'], format: time}]\n"


def _job(tmp_path: Path, text: str = JOB) -> str:
    folder = tmp_path / "job"
    folder.mkdir(exist_ok=True)
    path = folder / "job.yaml"
    path.write_text(text)
    return str(path)


class TestSweepAddRefuses:
    @pytest.mark.parametrize(
        ("argv", "expected"),
        [
            (
                ["--cron", "61 2 * * *"],
                'expected a cron expression like "0 2 * * *", got '
                '"61 2 * * *": Invalid end range: 61 > 59.',
            ),
            (["--cron", "0 2 * *"], "expected a cron expression of 5 fields"),
            (["--cron", "0 0 31 2 *"], "never occurs in month_of_year '2'"),
            (
                ["--cron", "0 2 * * *", "--timezone", "Europe/Berlinn"],
                'expected an IANA time zone like "Europe/Berlin" or "UTC", got "Europe/Berlinn"',
            ),
            (["--every", "5", "--timezone", "UTC"], "--timezone applies to --cron"),
            ([], "give the sweep a schedule"),
        ],
    )
    def test_bad_schedule(self, cli, tmp_path: Path, argv: list[str], expected: str) -> None:
        """An invalid cron expression (Celery's crontab parser decides) or time zone
        (zoneinfo decides), or no schedule: exit 3, one line."""
        done = cli(
            "sweep",
            "add",
            "s1",
            "--job",
            _job(tmp_path),
            "--targets",
            "platform:linux-x86_64",
            *argv,
        )
        assert done.status == 3, done.err
        assert expected in done.err
        assert done.err.startswith("perflab: error: ")
        assert cli("sweep", "list", "--json").json() == {"sweeps": []}

    def test_unknown_target(self, cli, tmp_path: Path) -> None:
        """A bare target that is neither a group nor a platform of a registered runner, or
        an unknown group: exit 3 naming it."""
        done = cli(
            "sweep",
            "add",
            "s1",
            "--job",
            _job(tmp_path),
            "--targets",
            "armm",
            "--cron",
            "0 2 * * *",
        )
        assert done.status == 3
        assert (
            "--targets: expected a platform (none) or group (none) of registered runners,"
            ' got "armm"'
        ) in done.err
        done = cli(
            "sweep",
            "add",
            "s1",
            "--job",
            _job(tmp_path),
            "--targets",
            "group:arm",
            "--cron",
            "0 2 * * *",
        )
        assert done.status == 3 and 'got "arm"' in done.err

    def test_matrix_over_the_limit(
        self, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A job whose matrix expands past matrix_max: exit 3 at the file's matrix line."""
        monkeypatch.setenv("PERFLAB_MATRIX_MAX", "3")
        path = _job(
            tmp_path,
            "name: sm\nmatrix: {a: [1, 2], b: [x, y]}\n"
            "benchmarks: [{name: b, command: ['true'], format: time}]\n",
        )
        done = cli(
            "sweep", "add", "s1", "--job", path, "--targets", "platform:p", "--cron", "0 2 * * *"
        )
        assert done.status == 3
        assert f"{path}:2:9: matrix: expected a matrix of at most 3 jobs" in done.err
        assert "got 4 (a 2 x b 2)" in done.err

    def test_bad_name_and_policy(self, cli, tmp_path: Path) -> None:
        """A sweep name with a space, or an unknown baseline policy: exit 3."""
        done = cli(
            "sweep",
            "add",
            "a b",
            "--job",
            _job(tmp_path),
            "--targets",
            "platform:p",
            "--cron",
            "0 2 * * *",
        )
        assert done.status == 3 and "expected a sweep name" in done.err
        done = cli(
            "sweep",
            "add",
            "s1",
            "--job",
            _job(tmp_path),
            "--targets",
            "platform:p",
            "--cron",
            "0 2 * * *",
            "--baseline-policy",
            "latest",
        )
        assert done.status == 3 and 'got "latest"' in done.err

    def test_unknown_sweep(self, cli) -> None:
        """show, run, history and remove of a sweep that does not exist: exit 3."""
        for argv in (["show", "nope"], ["run", "nope"], ["history", "nope"], ["remove", "nope"]):
            done = cli("sweep", *argv)
            assert done.status == 3, (argv, done.err)
            assert 'no sweep "nope"' in done.err
