"""When things run: every source's ingestion at 06:00 UTC, each source in a run of its own; the day's
spreads at 07:00 UTC; the cost trends of the month that ended on the 1st."""

import dagster as dg

from assets.alerts.assets import PRICE_CHANGES
from assets.analytics.assets import COST_TRENDS, DAILY_SPREADS
from assets.catalog.assets import MODEL_CATALOG, UNMATCHED_MODELS_KEY
from assets.compaction import COMPACTED_OBSERVATIONS
from assets.history import PRICE_HISTORY
from assets.ingest import observations_asset_key, raw_asset_key
from assets.partitions import DAILY_PARTITIONS, MONTHLY_PARTITIONS
from assets.sources import ALL_SOURCES
from pipeline.sensors import FRESHNESS_CHECKS

INGEST_JOB = "daily_ingest"

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    # the freshness checks on these assets are the freshness sensor's to run, not the ingest's
    selection=dg.AssetSelection.groups("sources", "observations") - dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    partitions_def=DAILY_PARTITIONS,
    description="Fetch, archive, parse and validate the day's prices of every source.",
)


@dg.schedule(job=ingest_job, cron_schedule="0 6 * * *", execution_timezone="UTC")
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


SPREADS_JOB = "daily_analytics"
TRENDS_JOB = "monthly_trends"
CHANGES_JOB = "price_changes_backfill"
CATALOG_JOB = "catalog_refresh"
HISTORY_JOB = "daily_history"
COMPACTION_JOB = "monthly_compaction"

spreads_job = dg.define_asset_job(
    SPREADS_JOB,
    selection=dg.AssetSelection.assets(DAILY_SPREADS),
    partitions_def=DAILY_PARTITIONS,
    description="Recompute the day's across-provider price spreads from every source's observations.",
)
trends_job = dg.define_asset_job(
    TRENDS_JOB,
    selection=dg.AssetSelection.assets(COST_TRENDS),
    partitions_def=MONTHLY_PARTITIONS,
    description="Refit the month's cost trends from its daily provider prices.",
)


changes_job = dg.define_asset_job(
    CHANGES_JOB,
    selection=dg.AssetSelection.assets(PRICE_CHANGES),
    partitions_def=DAILY_PARTITIONS,
    description="Recompute price changes over a day range (e.g. after a backfill); sends no alerts.",
)
catalog_job = dg.define_asset_job(
    CATALOG_JOB,
    selection=dg.AssetSelection.assets(MODEL_CATALOG, UNMATCHED_MODELS_KEY),
    description="Rebuild the model catalog (curated + Hugging Face Hub) and the list of unmatched model ids.",
)


@dg.schedule(job=catalog_job, cron_schedule="0 5 * * 1", execution_timezone="UTC")
def weekly_catalog_schedule(context: dg.ScheduleEvaluationContext):
    """Mondays 05:00 UTC: new Hub parameter counts and the week's unmatched ids, before the daily ingest."""
    return dg.RunRequest(run_key=f"{CATALOG_JOB}-{context.scheduled_execution_time.date()}")


@dg.schedule(job=spreads_job, cron_schedule="0 7 * * *", execution_timezone="UTC")
def daily_spreads_schedule(context: dg.ScheduleEvaluationContext):
    """Today's spreads at 07:00 UTC, an hour after the 06:00 ingest has landed today's observations."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"{SPREADS_JOB}-{day}", partition_key=day)


#: On the 1st at 08:00 UTC, the month that just ended (the newest monthly partition) is refitted, once
#: its last day's spreads are in.
monthly_trends_schedule = dg.build_schedule_from_partitioned_job(
    trends_job, name="monthly_trends_schedule", day_of_month=1, hour_of_day=8, minute_of_hour=0
)


history_job = dg.define_asset_job(
    HISTORY_JOB,
    selection=dg.AssetSelection.assets(PRICE_HISTORY),
    description="Rebuild price_history from every observation up to the latest day in the lake.",
)
compaction_job = dg.define_asset_job(
    COMPACTION_JOB,
    selection=dg.AssetSelection.assets(COMPACTED_OBSERVATIONS),
    description="Compact the month that just ended into its year's file, for the query layer.",
)


@dg.schedule(job=history_job, cron_schedule="0 7 * * *", execution_timezone="UTC")
def daily_history_schedule(context: dg.ScheduleEvaluationContext):
    """Today's price_history at 07:00 UTC, an hour after the 06:00 ingest has landed today's observations."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"{HISTORY_JOB}-{day}", partition_key=day)


monthly_compaction_schedule = dg.build_schedule_from_partitioned_job(
    compaction_job, name="monthly_compaction_schedule", day_of_month=1, hour_of_day=9, minute_of_hour=0
)
