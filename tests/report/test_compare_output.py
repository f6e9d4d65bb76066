"""``compare`` for people and tools: changes first, the rest counted; JSON compact unless
--pretty; JUnit of the gates; verify's calibration figure kept in the store."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from perflab.store import open_store
from tests.compare.conftest import samples


def _pair(make_run, spec=None) -> tuple[str, str]:
    base = make_run(
        {f"BM_{i}": {"time": samples(100.0, cv=0.005, seed=i)} for i in range(12)}, spec=spec
    )
    cand = make_run(
        {
            f"BM_{i}": {"time": samples(125.0 if i == 7 else 100.0, cv=0.005, seed=i + 50)}
            for i in range(12)
        },
        spec=spec,
    )
    return base, cand


class TestCompareOutput:
    def test_table_leads_with_changes(self, cli, make_run) -> None:
        """The regressed row is printed, the 11 quiet rows are counted, --all prints them."""
        base, cand = _pair(make_run)
        out = cli("compare", base, cand).out
        assert "BM_7" in out and "BM_3" not in out
        assert "11 benchmarks unchanged within noise or undecided; `--all` shows them" in out
        assert "BM_3" in cli("compare", base, cand, "--all").out

    def test_markdown_leads_with_changes(self, cli, make_run) -> None:
        base, cand = _pair(make_run)
        out = cli("compare", base, cand, "--format", "md").out
        table = [line for line in out.splitlines() if line.startswith("| `")]
        assert len(table) == 1 and "`BM_7`" in table[0]
        assert "11 benchmarks unchanged within noise or undecided" in out

    def test_json_compact_unless_pretty(self, cli, make_run) -> None:
        """One line by default, indented with --pretty; the same document, every row."""
        base, cand = _pair(make_run)
        compact = cli("compare", base, cand, "--json").out
        pretty = cli("compare", base, cand, "--json", "--pretty").out
        assert compact.count("\n") == 1 and pretty.count("\n") > 100
        assert json.loads(compact) == json.loads(pretty)
        assert len(json.loads(compact)["rows"]) == 12

    def test_junit_of_gates(self, cli, make_run) -> None:
        """A failed gate is a failed testcase; passing ones are testcases too."""
        spec = {
            "name": "j",
            # exchangeable runs: a gate decides on the comparison's run-level interval, which
            # a single-run baseline with no history widens (tests/compare/test_runs_key.py)
            "compare": {"run_spread": 0},
            "gates": [
                {"name": "median", "metric": "time", "stat": "median", "max_increase": "10%"}
            ],
        }
        base, cand = _pair(make_run, spec)
        result = cli("compare", base, cand, "--format", "junit")
        assert result.status == 2
        suite = ET.fromstring(result.out).find("testsuite")
        assert suite is not None and suite.get("tests") == "12" and suite.get("failures") == "1"
        failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
        assert failed == ["BM_7 median"]

    def test_unwritable_output(self, cli, make_run, tmp_path) -> None:
        base, cand = _pair(make_run)
        result = cli("compare", base, cand, "--format", "md", "-o", str(tmp_path))
        assert result.status == 3
        assert len(result.err.splitlines()) == 1
        assert "--output" in result.err and str(tmp_path) in result.err
        assert "is a directory" in result.err


class TestCalibration:
    def test_verify_stores_the_figure(self, cli) -> None:
        """`perflab verify local` (the probe as found, nothing changed) keeps its ns per
        iteration of the probe loop in the store, where reports read it."""
        result = cli("verify", "local", "--json", "--repetitions", "20")
        assert result.status in (0, 2), result.err  # 2: this shared VM was noisy
        figure = json.loads(result.out)["calibration_ns_per_iteration"]
        assert figure > 0
        with open_store() as store:
            stored = store.calibrations.latest("local")
        assert stored is not None and stored["ns_per_iteration"] == figure
