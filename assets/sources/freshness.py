"""Freshness judged on the data: a live source is overdue when the newest day it has prices for (its newest
`observations` partition with rows) began more than 36 hours ago, whatever ran. A run that landed an old day,
or an empty one, does not make the source fresh."""

from datetime import UTC, date, datetime, time, timedelta

import dagster as dg

from assets.keys import LIVE_OBSERVATIONS
from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS

FRESH_WITHIN_36H = "fresh_within_36h"
#: A day and a half from the start of the newest day: one late or retried daily run does not flap.
STALE_AFTER = timedelta(hours=36)


def newest_day_with_rows(lake: Lake, source: str) -> date | None:
    """The newest snapshot_date with at least one observation of `source`, or None."""
    for day in sorted(lake.days_with_partition(OBSERVATIONS, source), reverse=True):
        if lake.row_count(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=day, source=source)):
            return day
    return None


@dg.multi_asset_check(
    name="live_sources_freshness",  # not the name of the job that runs it: one namespace in a code location
    specs=[
        dg.AssetCheckSpec(
            FRESH_WITHIN_36H,
            asset=key,
            description="The newest day with prices of this source began less than 36 hours ago (UTC).",
        )
        for key in LIVE_OBSERVATIONS
    ],
    can_subset=True,
    required_resource_keys={"lake"},
)
def observations_freshness(context: dg.AssetCheckExecutionContext):
    """Per live source: how old its newest prices are, red (ERROR) when overdue."""
    lake = context.resources.lake.lake()
    now = datetime.now(UTC)
    for check in context.selected_asset_check_keys:
        source = check.asset_key.path[-1]
        newest = newest_day_with_rows(lake, source)
        if newest is None:
            passed, description, metadata = False, f"overdue: {source} has no prices in the lake", {}
        else:
            age = now - datetime.combine(newest, time(0), UTC)
            hours = round(age.total_seconds() / 3600, 1)
            passed = age <= STALE_AFTER
            state = "fresh" if passed else "overdue"
            description = f"{state}: newest prices are of {newest}, which began {hours} hours ago"
            metadata = {"newest_day": newest.isoformat(), "age_hours": hours}
        yield dg.AssetCheckResult(
            asset_key=check.asset_key,
            check_name=FRESH_WITHIN_36H,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=description,
            metadata=metadata,
        )
