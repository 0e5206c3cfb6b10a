"""The daily schedule asks for today's partition of every live source, one run per source."""

from datetime import UTC, datetime

import dagster as dg

from assets.keys import observations_asset_key, raw_asset_key
from llmprices.sources import ALL_SOURCES
from pipeline.definitions import defs
from pipeline.schedules import daily_ingest_schedule


def test_daily_schedule_requests_one_run_per_live_source_for_todays_partition():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 27, 6, 0, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    result = daily_ingest_schedule.evaluate_tick(context)
    requests = {r.tags["source"]: r for r in result.run_requests}
    live = {spec.name for spec in ALL_SOURCES if spec.live}
    assert set(requests) == live and "openrouter" in live
    for name, request in requests.items():
        assert request.partition_key == "2026-11-27"
        assert request.asset_selection == [raw_asset_key(name), observations_asset_key(name)]
        assert request.run_key == f"{name}-2026-11-27"
    assert daily_ingest_schedule.cron_schedule == "0 6 * * *"
    assert daily_ingest_schedule.execution_timezone == "UTC"
