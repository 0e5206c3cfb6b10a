"""The Dagster code location: every asset, check, resource, job, schedule and sensor of the project."""

import dagster as dg

from assets.alerts import ALERT_ASSETS
from assets.analytics import ANALYTICS_ASSETS
from assets.catalog import CATALOG_ASSETS
from assets.sources import SOURCE_ASSETS
from assets.sources.freshness import observations_freshness
from assets.warehouse import WAREHOUSE_ASSETS
from pipeline.executors import executor_from_env
from pipeline.jobs import JOBS
from pipeline.resources import default_resources
from pipeline.schedules import SCHEDULES
from pipeline.sensors import SENSORS

defs = dg.Definitions(
    assets=[*SOURCE_ASSETS, *CATALOG_ASSETS, *WAREHOUSE_ASSETS, *ANALYTICS_ASSETS, *ALERT_ASSETS],
    asset_checks=[observations_freshness],
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=default_resources(),
    executor=executor_from_env(),
)
