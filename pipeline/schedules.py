"""When things run: every source's ingestion at 06:00 UTC, each source in a run of its own; the day's
provider prices, spreads, price history and the catalog at 07:00 UTC; the cost trends and the compaction of
the month that ended on the 1st."""

import dagster as dg

from assets.keys import observations_asset_key, raw_asset_key
from llmprices.sources import ALL_SOURCES
from pipeline.jobs import (
    CATALOG_REFRESH,
    DAILY_ANALYTICS,
    DAILY_HISTORY,
    catalog_refresh,
    daily_analytics,
    daily_history,
    daily_ingest,
    freshness,
    monthly_compaction,
    monthly_trends,
)


@dg.schedule(job=daily_ingest, cron_schedule="0 6 * * *", execution_timezone="UTC")
def daily_ingest_schedule(context: dg.ScheduleEvaluationContext):
    """Today's partition of every live source, one run per source so one failure never stops the others."""
    day = context.scheduled_execution_time.date().isoformat()
    for spec in ALL_SOURCES:
        if not spec.live:
            continue
        yield dg.RunRequest(
            run_key=f"{spec.name}-{day}",
            partition_key=day,
            asset_selection=[raw_asset_key(spec.name), observations_asset_key(spec.name)],
            tags={"source": spec.name},
        )


@dg.schedule(job=catalog_refresh, cron_schedule="0 7 * * *", execution_timezone="UTC")
def daily_catalog_schedule(context: dg.ScheduleEvaluationContext):
    """07:00 UTC, after the 06:00 ingest: the catalog with the models first listed today (the Hub is asked only
    about repos it has no answer for, or an old one), and the unmatched ids."""
    return dg.RunRequest(run_key=f"{CATALOG_REFRESH}-{context.scheduled_execution_time.date()}")


@dg.schedule(job=daily_analytics, cron_schedule="0 7 * * *", execution_timezone="UTC")
def daily_analytics_schedule(context: dg.ScheduleEvaluationContext):
    """Today's provider prices and spreads at 07:00 UTC, an hour after the 06:00 ingest landed the day."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"{DAILY_ANALYTICS}-{day}", partition_key=day)


@dg.schedule(job=daily_history, cron_schedule="0 7 * * *", execution_timezone="UTC")
def daily_history_schedule(context: dg.ScheduleEvaluationContext):
    """Today's price_history at 07:00 UTC, an hour after the 06:00 ingest has landed today's observations."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"{DAILY_HISTORY}-{day}", partition_key=day)


#: On the 1st at 08:00 UTC, the month that just ended (the newest monthly partition) is refitted, once
#: its last day's spreads are in.
monthly_trends_schedule = dg.build_schedule_from_partitioned_job(
    monthly_trends, name="monthly_trends_schedule", day_of_month=1, hour_of_day=8, minute_of_hour=0
)
monthly_compaction_schedule = dg.build_schedule_from_partitioned_job(
    monthly_compaction, name="monthly_compaction_schedule", day_of_month=1, hour_of_day=9, minute_of_hour=0
)


@dg.schedule(job=freshness, cron_schedule="15 * * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)  # fmt: skip
def hourly_freshness_schedule(context: dg.ScheduleEvaluationContext):
    """Every hour: is each live source's newest day of prices less than 36 hours old?"""
    return dg.RunRequest(run_key=f"freshness-{context.scheduled_execution_time:%Y-%m-%dT%H}")


SCHEDULES = [
    daily_ingest_schedule,
    daily_catalog_schedule,
    daily_analytics_schedule,
    daily_history_schedule,
    monthly_trends_schedule,
    monthly_compaction_schedule,
    hourly_freshness_schedule,
]
