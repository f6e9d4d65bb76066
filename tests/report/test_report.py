"""``perflab report RUN...``: the benchmark x platform table in every format."""

from __future__ import annotations

import csv
import io
import json
import os
from xml.etree import ElementTree as ET

import pytest


def _doc(cli, *runs: str, fmt: str = "json") -> dict:
    result = cli("report", *runs, "--format", fmt)
    assert result.status == 2, result.err  # BM_a regressed
    return json.loads(result.out)


class TestAggregate:
    def test_verdicts_per_platform_and_consistency(self, cli, lab) -> None:
        """Each platform is compared with its own baseline; a change on every platform and
        one on a single platform are labelled differently."""
        doc = _doc(cli, *lab)
        rows = {r["benchmark"]: r for r in doc["rows"]}
        assert {p: c["verdict"] for p, c in rows["BM_a"]["cells"].items()} == {
            "linux-x86_64": "regressed",
            "linux-aarch64": "regressed",
        }
        assert rows["BM_a"]["consistency"] == "regressed on every platform"
        assert rows["BM_b"]["consistency"] == "platform-specific: regressed on linux-aarch64 only"
        assert rows["BM_c"]["consistency"] == "unchanged"
        assert rows["BM_a"]["cells"]["linux-x86_64"]["change"] == pytest.approx(0.2, abs=0.02)

    def test_ratios_normalised_by_calibration(self, cli, lab) -> None:
        """arm's medians are 1.5x x86's and its probe loop is 1.5x slower: raw 1.5, normalised
        1.0; the raw ratio stays beside the normalised one."""
        doc = _doc(cli, *lab)
        ratio = {r["benchmark"]: r["ratios"]["linux-aarch64"] for r in doc["rows"]}["BM_c"]
        assert ratio["raw"] == pytest.approx(1.5, rel=0.02)
        assert ratio["normalised"] == pytest.approx(1.0, rel=0.02)
        assert doc["reference"] == "linux-x86_64"
        assert [p["calibration_ns"] for p in doc["platforms"]] == [2.0, 3.0]

    def test_geomean_per_platform(self, cli, lab) -> None:
        """A geometric-mean change per platform and metric, and the geometric-mean ratio."""
        geo = _doc(cli, *lab)["geomean"]
        assert geo["linux-x86_64"]["time"]["change"] == pytest.approx(1.2 ** (1 / 3) - 1, abs=0.02)
        assert geo["linux-aarch64"]["time"]["ratio_normalised"] == pytest.approx(
            (1.2**2 / 1.2) ** (1 / 3), rel=0.03
        )

    def test_no_calibration_no_normalised_ratio(self, cli, make_run) -> None:
        """Without a calibration figure the normalised ratio is null, never a guess."""
        one = make_run({"BM": {"time": [1.0, 1.1, 1.05]}}, platform="p1")
        two = make_run({"BM": {"time": [2.0, 2.2, 2.1]}}, platform="p2")
        result = cli("report", one, two, "--format", "json")
        assert result.status == 0, result.err
        row = json.loads(result.out)["rows"][0]
        assert row["ratios"]["p2"]["normalised"] is None
        assert row["ratios"]["p2"]["raw"] == pytest.approx(2.0, rel=0.01)
        assert row["consistency"] == "no baseline"

    def test_evidence_class_difference_is_said(self, cli, make_run) -> None:
        """A run tuned unlike its baseline is still compared in a report, and the report
        says how they differ (compare would refuse without --force)."""
        from perflab.store import open_store

        base = make_run({"BM": {"time": [1.0, 1.1, 1.05]}}, platform="p1", fingerprint="a" * 64)
        cand = make_run({"BM": {"time": [1.0, 1.1, 1.05]}}, platform="p1", fingerprint="b" * 64)
        with open_store() as store:
            store.baselines.record(
                name="n",
                job="j",
                platform="p1",
                branch="main",
                benchmark="*",
                run_id=base,
                action="set",
                reason=None,
                set_by="test",
            )
        doc = json.loads(cli("report", cand, "--format", "json").out)
        assert doc["baseline_differences"] == {
            "p1": ["tuning fingerprint: aaaaaaaaaaaaaaaa vs bbbbbbbbbbbbbbbb"]
        }
        assert "measured unlike its baseline" in cli("report", cand).out


class TestFormats:
    def test_markdown_leads_with_changes(self, cli, lab) -> None:
        """Markdown lists regressed rows and counts the unchanged ones; --all shows them."""
        out = cli("report", *lab).out
        assert "`BM_a`" in out and "`BM_b`" in out and "`BM_c`" not in out
        assert "1 benchmark unchanged within noise or undecided; `--all` shows them." in out
        assert "`BM_c`" in cli("report", *lab, "--all").out

    def test_csv_one_row_per_benchmark_and_platform(self, cli, lab) -> None:
        rows = list(csv.DictReader(io.StringIO(cli("report", *lab, "--format", "csv").out)))
        assert len(rows) == 6
        arm_a = next(
            r for r in rows if r["benchmark"] == "BM_a" and r["platform"] == "linux-aarch64"
        )
        assert arm_a["verdict"] == "regressed" and float(arm_a["ratio_raw"]) > 1.4

    def test_bencher_metric_format(self, cli, lab) -> None:
        """BMF: benchmark -> measure -> value with lower_value <= value <= upper_value, the
        shape bencher.dev documents (platform-prefixed names for several platforms)."""
        doc = json.loads(cli("report", *lab, "--format", "bmf").out)
        assert set(doc) == {f"{p}/BM_{x}" for p in ("linux-x86_64", "linux-aarch64") for x in "abc"}
        for measures in doc.values():
            for metric in measures.values():
                assert set(metric) == {"value", "lower_value", "upper_value"}
                assert metric["lower_value"] <= metric["value"] <= metric["upper_value"]

    def test_github_action_benchmark(self, cli, lab) -> None:
        """customSmallerIsBetter: an array of {name, unit, value, range, extra}; the
        higher-is-better export holds only higher-is-better metrics (none here)."""
        doc = json.loads(cli("report", *lab, "--format", "github-smaller").out)
        assert len(doc) == 6
        for entry in doc:
            assert set(entry) == {"name", "unit", "value", "range", "extra"}
            assert isinstance(entry["value"], float) and entry["unit"] == "ns"
            assert entry["range"].startswith("± ")
        assert json.loads(cli("report", *lab, "--format", "github-bigger").out) == []

    def test_junit_failed_gate_is_failed_testcase(self, cli, lab) -> None:
        """The 5% median gate fails for BM_a on both platforms and BM_b on arm."""
        root = ET.fromstring(cli("report", *lab, "--format", "junit").out)
        assert root.tag == "testsuites"
        suites = {s.get("name"): s for s in root.iter("testsuite")}
        assert set(suites) == {"linux-x86_64", "linux-aarch64"}
        failed = {
            (s, c.get("name"))
            for s, suite in suites.items()
            for c in suite.iter("testcase")
            if c.find("failure") is not None
        }
        assert failed == {
            ("linux-x86_64", "BM_a p50 bound"),
            ("linux-aarch64", "BM_a p50 bound"),
            ("linux-aarch64", "BM_b p50 bound"),
        }
        assert suites["linux-aarch64"].get("failures") == "2"
        assert root.get("tests") == "6"

    def test_output_file(self, cli, lab, tmp_path) -> None:
        target = tmp_path / "r.json"
        result = cli("report", *lab, "--format", "json", "-o", str(target))
        assert result.out == "" and json.loads(target.read_text())["rows"]


class TestBadInput:
    def test_unknown_run(self, cli, lab) -> None:
        """A run that does not exist: one line naming it, exit 3."""
        result = cli("report", lab[0], "nosuchrun")
        assert result.status == 3
        assert result.err.splitlines()[0] == (
            'perflab: error: no run "nosuchrun" in the store (see `perflab results list`)'
        )

    def test_unwritable_output(self, cli, lab, tmp_path) -> None:
        """A folder that does not exist, or cannot be written: exit 3 before any work."""
        result = cli("report", *lab, "-o", str(tmp_path / "missing" / "r.md"))
        assert result.status == 3
        assert len(result.err.splitlines()) == 1
        assert "--output" in result.err and "expected an existing folder" in result.err
        if os.geteuid() != 0:  # root writes anywhere
            folder = tmp_path / "ro"
            folder.mkdir(mode=0o500)
            result = cli("report", *lab, "-o", str(folder / "r.md"))
            assert result.status == 3 and "read-only" in result.err

    def test_two_runs_one_platform(self, cli, lab, make_run) -> None:
        other = make_run({"BM_a": {"time": [1.0, 2.0]}}, platform="linux-x86_64")
        result = cli("report", lab[0], other)
        assert result.status == 3
        assert "expected one run per platform, found several for linux-x86_64" in result.err
