"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``), driven by
Playwright. It must render with no console error, show the platform table, the benchmark
table (paged and filtered in the page) and every plot; a screenshot is kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REQUIRE = os.environ.get("PERFLAB_REQUIRE_ALL") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _need_browser() -> None:
    missing = []
    if CHROMIUM is None:
        missing.append("chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        message = "needs " + ", ".join(missing)
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)


def _open(page_path: Path, shot: Path) -> dict:
    """Load the file, collect console errors and page errors, read what is there."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on(
                "console",
                lambda m: (
                    errors.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.goto(page_path.as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            seen = {
                "platform_rows": page.locator("#platform-table tr").count() - 1,
                "bench_rows": page.locator("#bench-table tbody tr").count(),
                "plots": {
                    kind: page.locator(f"figure[data-plot='{kind}'] svg").count()
                    for kind in ("distribution", "history", "changes")
                },
                "page_info": page.inner_text("#page-info"),
                "evidence": page.locator("details.evidence").count(),
            }
            page.fill("#filter", "BM_b")
            seen["filtered"] = page.locator("#bench-table tbody tr").count()
            page.fill("#filter", "")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    seen["errors"] = errors
    return seen


class TestHtmlInChromium:
    def test_report_renders(self, cli, lab, tmp_path) -> None:
        """Two platforms: both in the platform table, three rows, a distribution and a
        history plot per benchmark, the evidence of each run, no console error."""
        _need_browser()
        target = tmp_path / "report.html"
        result = cli("report", *lab, "--format", "html", "-o", str(target))
        assert result.status == 2, result.err
        text = target.read_text()
        for attribute in ('src="http', "src='http", 'href="http', "url(http", "<link"):
            assert attribute not in text  # nothing to fetch: it opens offline
        shot = tmp_path / "report.png"
        seen = _open(target, shot)
        print(f"screenshot: {shot}")
        assert seen["errors"] == []
        assert seen["platform_rows"] == 2
        assert seen["bench_rows"] == 3
        assert seen["plots"]["distribution"] == 3
        assert seen["plots"]["history"] == 3
        assert seen["evidence"] == 2
        assert seen["filtered"] == 1
        assert shot.stat().st_size > 10_000

    def test_compare_and_results_show_use_the_same_page(self, cli, make_run, tmp_path) -> None:
        """compare --format html pages a big table (60 rows, 50 a page) and draws the
        histogram of changes; results show --format html draws the run alone."""
        _need_browser()
        from tests.compare.conftest import samples

        base = make_run({f"BM_{i}": {"time": samples(100.0, seed=i)} for i in range(60)})
        cand = make_run(
            {
                f"BM_{i}": {"time": samples(130.0 if i < 3 else 100.0, seed=i + 99)}
                for i in range(60)
            }
        )
        page = tmp_path / "compare.html"
        assert cli("compare", base, cand, "--format", "html", "-o", str(page)).status == 2
        seen = _open(page, tmp_path / "compare.png")
        print(f"screenshot: {tmp_path / 'compare.png'}")
        assert seen["errors"] == []
        assert seen["bench_rows"] == 50 and "of 60 rows" in seen["page_info"]
        assert seen["plots"]["changes"] == 1 and seen["plots"]["distribution"] == 6
        show = tmp_path / "show.html"
        result = cli("results", "show", cand, "--format", "html", "-o", str(show))
        assert result.status == 0, result.err
        seen = _open(show, tmp_path / "show.png")
        assert seen["errors"] == [] and seen["bench_rows"] == 50
        export = tmp_path / "export.html"
        assert cli("results", "export", cand, "--format", "html", "-o", str(export)).status == 0
        assert export.read_text().startswith("<!DOCTYPE html>")
