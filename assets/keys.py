"""Every asset's key and group, in one place: what jobs, schedules, sensors and downstream assets name,
without importing the modules that build the assets."""

import dagster as dg

from llmprices.lake.tables import TREND_TABLES
from llmprices.sources import ALL_SOURCES

SOURCES_GROUP = "sources"
OBSERVATIONS_GROUP = "observations"
CATALOG_GROUP = "catalog"
WAREHOUSE_GROUP = "warehouse"
ANALYTICS_GROUP = "analytics"
ALERTS_GROUP = "alerts"


def raw_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def observations_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["observations", source])


def source_resource_key(source: str) -> str:
    """The resource that says where a source fetches from."""
    return f"{source}_source"


#: Every source's observations: what the warehouse and analytics assets read from.
ALL_OBSERVATIONS = [observations_asset_key(spec.name) for spec in ALL_SOURCES]
#: Sources the daily schedule fetches (a CSV import has no cadence).
LIVE_OBSERVATIONS = [observations_asset_key(spec.name) for spec in ALL_SOURCES if spec.live]

MODEL_CATALOG = dg.AssetKey("model_catalog")
UNMATCHED_MODELS = dg.AssetKey("unmatched_models")
NEW_MODELS = dg.AssetKey("new_models")
PRICE_HISTORY = dg.AssetKey("price_history")
COMPACTED_OBSERVATIONS = dg.AssetKey("compacted_observations")
PRICE_CHANGES = dg.AssetKey("price_changes")
PROVIDER_PRICES = dg.AssetKey("provider_prices")
DAILY_SPREADS = dg.AssetKey("daily_spreads")
#: `cost_trends` writes one lake table per key: `trends/<name>`.
COST_TRENDS = {name: dg.AssetKey(["trends", name]) for name in TREND_TABLES}
ALERT_DELIVERIES = dg.AssetKey("alert_deliveries")
