"""The monthly HTML report in a real browser (Chromium through Playwright): its charts decode at a readable size,
its tables have rows, nothing overflows the page, and it fetches nothing. Screenshots go to `test-artifacts/`
(or $TEST_ARTIFACTS), kept whether the test passes or not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: What the report's charts are drawn at (`llmprices.analysis.charts`); a chart shown narrower is hard to read.
MIN_CHART_WIDTH = 480

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)"
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    folder = Path(os.environ.get("TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


IMAGES = """els => els.map(e => ({alt: e.alt, decoded: e.complete && e.naturalWidth > 0, natural: e.naturalWidth,
                               shown: e.clientWidth, room: e.parentElement.clientWidth - 2}))"""


@pytest.mark.parametrize("width", [1280, 600])
def test_the_report_s_charts_and_tables_render_offline(demo_lake, browser, artifacts, width):
    report = demo_lake.path / "reports" / "month=2025-01" / "report.html"  # as cost_trends wrote it
    page = browser.new_page(viewport={"width": width, "height": 900})
    fetched = []

    def offline(route):  # the page must need nothing but itself
        fetched.append(route.request.url)
        route.abort() if route.request.url.startswith(("http:", "https:")) else route.continue_()

    page.route("**/*", offline)
    page.goto(report.as_uri())
    page.get_by_role("heading", name="Same model, different prices").wait_for()
    page.screenshot(path=str(artifacts / f"report-2025-01-{width}px.png"), full_page=True)

    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
    images = page.eval_on_selector_all("img", IMAGES)
    assert [image["alt"] for image in images] == [
        "provider prices of the most served open models", "size vs minimum price", "trend history", "MoE placement"
    ]
    assert all(image["decoded"] and image["natural"] >= MIN_CHART_WIDTH for image in images), images
    for image in images:  # at natural size (never stretched), shrunk only to fit a narrow window
        assert image["shown"] == min(image["natural"], image["room"]), image
    tables = page.locator("table")
    assert tables.count() >= 8
    for i in range(tables.count()):
        assert tables.nth(i).locator("tbody tr").count() > 0, f"table {i} has no rows"
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")  # wide tables scroll inside
    page.close()
