"""The Dagster code location: every asset, check, resource, schedule and sensor of the project."""

import dagster as dg

from assets.catalog.assets import HubResource, model_catalog, unmatched_models
from assets.ingest import build_source_assets
from assets.sources import ALL_SOURCES
from pipeline.resources import HttpResource, LakeResource
from pipeline.schedules import daily_ingest_schedule, ingest_job

defs = dg.Definitions(
    assets=[
        *[asset for spec in ALL_SOURCES for asset in build_source_assets(spec)],
        model_catalog,
        unmatched_models,
    ],
    jobs=[ingest_job],
    schedules=[daily_ingest_schedule],
    resources={
        "lake": LakeResource(),
        "http": HttpResource(),
        "hf_hub": HubResource(),
        **{spec.resource_key: spec.resource for spec in ALL_SOURCES},
    },
)
