"""The Dagster UI over the demo lake, in a real browser (Debian's Chromium through Playwright): what a user sees
after `llmprices ui --lake demo-lake` and `llmprices demo`. Screenshots go to the test artifacts.

The pages are rendered client-side: each step waits for a text of the page, never for "load". A partition's
page is opened by URL (`?view=partitions&partition=<day>`); its metadata table has one row per key.
"""

from __future__ import annotations

from datetime import date

import pytest

from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS
from pipeline.homes import LOCATION

GROUPS = ("sources", "observations", "catalog", "warehouse", "analytics", "alerts")


def open_page(page, demo_ui, path: str, text: str):
    page.goto(demo_ui.server.url + path)
    page.get_by_text(text).first.wait_for()
    return page


def metadata_value(page, key: str) -> str:
    """The value of the metadata row `key`: its last cell with text (a partition's rows are [key, value, ""], an
    asset overview's [key, timestamp, value])."""
    return [text.strip() for text in metadata_row(page, key).locator("td").all_inner_texts() if text.strip()][-1]


def metadata_row(page, key: str):
    return page.locator("tr").filter(has=page.get_by_text(key, exact=True)).last


def test_the_asset_graph_lists_the_projects_groups_and_nothing_the_demo_ran_is_never_materialized(demo_ui, page):
    open_page(page, demo_ui, "/asset-groups", "observations")
    for group in GROUPS:
        assert page.get_by_text(group, exact=True).count() > 0, group
    for asset in ("price_history", "alert_deliveries", "compacted_observations", "unmatched_models"):
        open_page(page, demo_ui, f"/assets/{asset}", "Latest materialization")
        assert page.get_by_text("Never materialized").count() == 0, asset


def test_a_demo_run_shows_on_daily_ingests_page_and_on_the_timeline(demo_ui, page, artifacts):
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(demo_ui.home)) as instance:
        [run] = [r.dagster_run for r in instance.get_run_records() if r.dagster_run.job_name == "daily_ingest"]
    open_page(page, demo_ui, f"/locations/{LOCATION}/jobs/daily_ingest/runs", run.run_id[:8])
    assert page.get_by_text("No runs found").count() == 0
    open_page(page, demo_ui, "/overview/activity/timeline", "daily_ingest")
    for job in ("daily_ingest", "daily_analytics", "price_alerts", "monthly_trends"):
        assert page.get_by_text(job, exact=True).count() > 0, f"{job} is not on the timeline"
    page.screenshot(path=str(artifacts / "timeline.png"), full_page=True)


def test_each_day_of_the_ranged_ingest_shows_its_own_row_count(demo_ui, page):
    lake = Lake(str(demo_ui.lake))
    days = ["2025-01-13", "2025-01-14", "2025-01-15"]
    expected = {
        day: lake.row_count(
            OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=date.fromisoformat(day), source="openrouter")
        )
        for day in days
    }
    assert len(set(expected.values())) > 1, expected  # the days differ, so a range's total would show
    for day, rows in expected.items():
        open_page(page, demo_ui, f"/assets/observations/openrouter?view=partitions&partition={day}", "quarantined_rows")
        assert metadata_value(page, "dagster/row_count") == str(rows), day
        assert metadata_value(page, "quarantined_rows") == "1", day
        assert metadata_value(page, "check/row_count_vs_previous") == "passed", day


def test_cost_trends_shows_its_figures_and_plots_their_history(demo_ui, page):
    open_page(page, demo_ui, "/assets/trends/min_price_fit", "fixed_cost_usd_per_mtok")
    figures = {key: metadata_value(page, key) for key in ("fixed_cost_usd_per_mtok", "r2", "models_fitted")}
    assert float(figures["fixed_cost_usd_per_mtok"]) == pytest.approx(0.0328, abs=1e-4)  # as the demo prints
    assert float(figures["r2"]) == pytest.approx(0.997, abs=1e-3) and figures["models_fitted"] == "4"
    page.get_by_role("button", name="Plots").first.click()
    page.get_by_text("variable_cost_usd_per_mtok_per_10b").first.wait_for()
    assert page.locator("canvas").count() > 0  # the charts Dagster draws of the numeric figures


def test_a_chart_opens_at_full_size_and_metadata_tables_fit(demo_ui, page):
    open_page(page, demo_ui, "/assets/daily_spreads?view=partitions&partition=2025-01-15", "provider_prices_chart")
    assert metadata_value(page, "min_price/llama-3.1-70b-instruct") == "0.165"  # the demo's 2025-01-15
    assert metadata_value(page, "max_over_min/llama-3.1-70b-instruct") == "17.55"
    metadata_row(page, "provider_prices_chart").get_by_text("[Show Markdown]").click()
    image = page.locator("img[alt='provider prices']")
    image.wait_for()
    size = image.evaluate("e => [e.naturalWidth, e.naturalHeight, e.getBoundingClientRect().width]")
    assert size[:2] == [1000, 600] and size[2] >= 900, size  # shown at full size: its labels are readable
    page.keyboard.press("Escape")
    for path, text in (("/assets/trends/min_price_fit", "moe_placement"), ("/assets/compacted_observations", "years")):
        open_page(page, demo_ui, path, text)
        assert clipped(page) == [], path  # the widest metadata (lists, not tables) wraps in the column


def clipped(page) -> list[str]:
    """What is cut off on the page: elements wider inside than shown (a horizontally scrolled box)."""
    return page.evaluate(
        "[...document.querySelectorAll('*')]"
        ".filter(e => e.clientWidth > 300 && e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.className.toString() + ': ' + e.innerText.slice(0, 80))"
    )
