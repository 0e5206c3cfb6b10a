"""The monthly HTML report in a real browser (Chromium through Playwright): its charts decode at a readable size,
its tables have rows, nothing overflows the page, and it fetches nothing. Screenshots go to `test-artifacts/`
(or $LLMPRICES_TEST_ARTIFACTS), kept whether the test passes or not."""

from __future__ import annotations

import pytest

#: What the report's charts are drawn at (`llmprices.analysis.charts`); a chart shown narrower is hard to read.
MIN_CHART_WIDTH = 480


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
