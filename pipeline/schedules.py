"""When things run: every source's ingestion at 06:00 UTC, each source in a run of its own."""

import dagster as dg

from assets.ingest import observations_asset_key, raw_asset_key
from assets.partitions import DAILY_PARTITIONS
from assets.sources import ALL_SOURCES

INGEST_JOB = "daily_ingest"

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.groups("sources", "observations"),
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
