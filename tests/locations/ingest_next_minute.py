"""The code location `tests/test_deploy_postgres.py` serves over gRPC: the project's own assets, checks,
resources, executor and `daily_ingest` job, with the daily ingest schedule's requests (for the test's sources)
firing at the first minute after the daemon starts instead of at 06:00 UTC, and only once."""

import dagster as dg

from pipeline import definitions
from pipeline.jobs import daily_ingest
from pipeline.schedules import daily_ingest_schedule

SOURCES = ("openrouter", "litellm", "genai_prices")
SCHEDULE = "ingest_next_minute"


@dg.schedule(
    name=SCHEDULE,
    job=daily_ingest,
    cron_schedule="* * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def ingest_next_minute(context: dg.ScheduleEvaluationContext):
    if context.instance.get_runs_count(dg.RunsFilter(tags={"dagster/schedule_name": SCHEDULE})):
        return dg.SkipReason("fired once already")
    return [request for request in daily_ingest_schedule(context) if request.tags["source"] in SOURCES]


# the project's Definitions read through its module: a second Definitions at module scope would be ambiguous
defs = dg.Definitions(
    assets=definitions.defs.assets,
    asset_checks=definitions.defs.asset_checks,
    jobs=[daily_ingest],
    schedules=[ingest_next_minute],
    resources=definitions.defs.resources,
    executor=definitions.defs.executor,
)
