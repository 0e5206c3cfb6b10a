"""The Dagster code location: every asset, check, resource, schedule and sensor of the project."""

import dagster as dg

from assets.alerts.assets import ALERT_ASSETS, AlertsResource
from assets.analytics.assets import ANALYTICS_ASSETS
from assets.catalog.assets import HubResource, model_catalog, unmatched_models
from assets.compaction import compacted_observations
from assets.history import price_history_asset
from assets.ingest import build_source_assets
from assets.sources import ALL_SOURCES
from pipeline.resources import HttpResource, LakeResource
from pipeline.schedules import (
    catalog_job,
    changes_job,
    compaction_job,
    daily_history_schedule,
    daily_ingest_schedule,
    daily_spreads_schedule,
    history_job,
    ingest_job,
    monthly_compaction_schedule,
    monthly_trends_schedule,
    spreads_job,
    trends_job,
    weekly_catalog_schedule,
)
from pipeline.sensors import FRESHNESS_CHECKS, SENSORS

defs = dg.Definitions(
    assets=[
        *[asset for spec in ALL_SOURCES for asset in build_source_assets(spec)],
        model_catalog,
        unmatched_models,
        *ALERT_ASSETS,
        *ANALYTICS_ASSETS,
        price_history_asset,
        compacted_observations,
    ],
    asset_checks=FRESHNESS_CHECKS,
    jobs=[ingest_job, spreads_job, trends_job, changes_job, catalog_job, history_job, compaction_job],
    schedules=[
        daily_ingest_schedule,
        daily_spreads_schedule,
        daily_history_schedule,
        monthly_trends_schedule,
        monthly_compaction_schedule,
        weekly_catalog_schedule,
    ],
    sensors=SENSORS,
    resources={
        "lake": LakeResource(),
        "http": HttpResource(),
        "hf_hub": HubResource(),
        "alerts": AlertsResource(),
        **{spec.resource_key: spec.resource for spec in ALL_SOURCES},
    },
)
