"""The code location's jobs; each constant is its job's name."""

import dagster as dg

from assets.keys import (
    ALERT_DELIVERIES,
    COMPACTED_OBSERVATIONS,
    COST_TRENDS,
    DAILY_SPREADS,
    MODEL_CATALOG,
    NEW_MODELS,
    OBSERVATIONS_GROUP,
    PRICE_CHANGES,
    PRICE_HISTORY,
    PROVIDER_PRICES,
    SOURCES_GROUP,
    UNMATCHED_MODELS,
)
from assets.partitions import DAILY_PARTITIONS, MONTHLY_PARTITIONS
from assets.sources.freshness import observations_freshness

DAILY_INGEST = "daily_ingest"
DAILY_ANALYTICS = "daily_analytics"
MONTHLY_TRENDS = "monthly_trends"
PRICE_CHANGES_BACKFILL = "price_changes_backfill"
PRICE_ALERTS = "price_alerts"
CATALOG_REFRESH = "catalog_refresh"
DAILY_HISTORY = "daily_history"
MONTHLY_COMPACTION = "monthly_compaction"
FRESHNESS = "observations_freshness"

daily_ingest = dg.define_asset_job(
    DAILY_INGEST,
    # the freshness checks on these assets are the freshness schedule's to run, not the ingest's
    selection=dg.AssetSelection.groups(SOURCES_GROUP, OBSERVATIONS_GROUP)
    - dg.AssetSelection.checks(observations_freshness),
    partitions_def=DAILY_PARTITIONS,
    description="Fetch, archive, parse and validate the day's prices of every source.",
)
daily_analytics = dg.define_asset_job(
    DAILY_ANALYTICS,
    selection=dg.AssetSelection.assets(PROVIDER_PRICES, DAILY_SPREADS),
    partitions_def=DAILY_PARTITIONS,
    description="Recompute the day's provider prices and across-provider spreads from every source's observations.",
)
monthly_trends = dg.define_asset_job(
    MONTHLY_TRENDS,
    selection=dg.AssetSelection.assets(*COST_TRENDS.values()),
    partitions_def=MONTHLY_PARTITIONS,
    description="Refit the month's cost trends from its daily provider prices.",
)
price_changes_backfill = dg.define_asset_job(
    PRICE_CHANGES_BACKFILL,
    selection=dg.AssetSelection.assets(PRICE_CHANGES),
    partitions_def=DAILY_PARTITIONS,
    description="Recompute price changes over a day range (e.g. after a backfill); sends no alerts.",
)
price_alerts = dg.define_asset_job(
    PRICE_ALERTS,
    selection=dg.AssetSelection.assets(PRICE_CHANGES, NEW_MODELS, ALERT_DELIVERIES),
    partitions_def=DAILY_PARTITIONS,
    description="Recompute price changes and new models over a day range and deliver their alerts (the automation "
    "sensor does this for today as sources land; alerts older than the rules' expire_after_days are recorded "
    "expired, unsent).",
)
catalog_refresh = dg.define_asset_job(
    CATALOG_REFRESH,
    selection=dg.AssetSelection.assets(MODEL_CATALOG, UNMATCHED_MODELS),
    description="Rebuild the model catalog (curated + Hugging Face Hub) and the list of unmatched model ids.",
)
daily_history = dg.define_asset_job(
    DAILY_HISTORY,
    selection=dg.AssetSelection.assets(PRICE_HISTORY),
    description="Rebuild price_history from every observation up to the latest day in the lake.",
)
monthly_compaction = dg.define_asset_job(
    MONTHLY_COMPACTION,
    selection=dg.AssetSelection.assets(COMPACTED_OBSERVATIONS),
    description="Compact the month that just ended into its year's file, for the query layer.",
)

freshness = dg.define_asset_job(
    FRESHNESS,
    selection=dg.AssetSelection.checks(observations_freshness),
    description="How old each live source's newest prices in the lake are (overdue after 36 hours).",
)

JOBS = [
    daily_ingest,
    daily_analytics,
    monthly_trends,
    price_changes_backfill,
    price_alerts,
    catalog_refresh,
    daily_history,
    monthly_compaction,
    freshness,
]
