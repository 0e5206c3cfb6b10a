"""The Dagster asset of how far providers' prices spread (`daily_spreads`), read from `provider_prices`
(`assets.analytics.prices`) with the core's pure functions (`llmprices.analysis.spreads`); a lake file per day,
the headline figures and a chart in the metadata."""

from datetime import date

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.analytics.figures import spreads_day_figures
from assets.analytics.prices import PER_PROVIDER_SOURCES
from assets.analytics.reads import provider_prices_between
from assets.keys import ANALYTICS_GROUP, DAILY_SPREADS, PROVIDER_PRICES
from assets.metadata import chart_md
from assets.partitions import DAILY_PARTITIONS, partition_days
from llmprices.analysis.spreads import SpreadConfig, spread_prices, spread_summary
from llmprices.lake.read import by_month
from llmprices.lake.store import Lake
from llmprices.lake.tables import PROVIDER_PRICES as PROVIDER_PRICES_TABLE
from llmprices.lake.tables import SPREADS


class SpreadsConfig(dg.Config):
    """Which provider prices a spread counts besides trusted, full-precision, paid ones (the seed's choice)."""

    include_flagged: bool = Field(
        False,
        description="Count prices a trust rule flagged (stale, placeholder, unit_slip, outlier, order_violation).",
    )
    include_quantized: bool = Field(False, description="Count builds quantized below 16 bits (FP8, INT4, turbo...).")
    include_free: bool = Field(False, description="Count free tiers (price 0 or a `free` variant).")

    def spread_config(self) -> SpreadConfig:
        return SpreadConfig(
            include_flagged=self.include_flagged,
            include_quantized=self.include_quantized,
            include_free=self.include_free,
        )


@dg.asset(
    key=DAILY_SPREADS,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[PROVIDER_PRICES],
    group_name=ANALYTICS_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake"},
)
def daily_spreads(context: dg.AssetExecutionContext, config: SpreadsConfig) -> dg.MaterializeResult:
    """How far providers' prices for the same canonical model spread, per day: n_providers, min, p25,
    median, p75 and max of the 3:1 blended price, max_over_min, cheapest and priciest provider, and
    min/median/max of input and output prices, over the day's `provider_prices` (each provider's cheapest
    trusted, full-precision, paid variant unless the config counts more). Lake: `spreads/snapshot_date=D/`."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    priced_days, stored_rows, latest, pending = set(), 0, None, []
    for month in by_month(days):  # a month of provider prices in memory at a time, however long the range
        stored = provider_prices_between(lake, month[0], month[-1])
        stored_rows += len(stored)
        prices = spread_prices(stored, config.spread_config())
        pending.append(month)
        if prices.empty and latest is None:
            continue  # nothing is written until some day has prices: a range without any fails untouched
        spreads = spread_summary(prices) if len(prices) else latest[1].iloc[0:0]
        for month_days in pending:
            _write_spreads(context, lake, month_days, spreads)
        pending, priced_days = [], priced_days | set(prices["snapshot_date"])
        latest = (prices, spreads) if len(prices) else latest
    if latest is None:
        raise dg.Failure(_no_spread_prices(lake, stored_rows, days), allow_retries=False)
    prices = latest[0]
    newest = prices["snapshot_date"].max().isoformat()  # its chart: one per run keeps the event log small
    context.add_asset_metadata({"provider_prices_chart": _provider_prices_chart(prices)}, partition_key=newest)
    return dg.MaterializeResult(
        metadata={
            "run_days": len(days),
            "run_days_without_prices": len(set(days) - priced_days),
            "lake_path": lake.path(SPREADS),
        }
    )


def _write_spreads(context: dg.AssetExecutionContext, lake: Lake, days: list[date], spreads: pd.DataFrame) -> None:
    """Each day's partition (an empty one for a day without spreads) and its own figures."""
    by_day = SPREADS.from_frame_by_day(spreads, days)
    lake.write_partitions(SPREADS, {SPREADS.partition(snapshot_date=day): rows for day, rows in by_day.items()})
    spreads_by_day = dict(iter(spreads.groupby(spreads["snapshot_date"])))
    for day in days:
        figures = spreads_day_figures(spreads_by_day.get(day, spreads.iloc[0:0]))
        context.add_asset_metadata(figures, partition_key=day.isoformat())


def _no_spread_prices(lake: Lake, stored_rows: int, days: list[date]) -> str:
    """Why there is nothing to spread on these days, and what to do about it."""
    where = f"from {days[0]} to {days[-1]}"
    landed = {
        value
        for value in lake.partition_values(PROVIDER_PRICES_TABLE)
        if days[0].isoformat() <= value <= days[-1].isoformat()
    }
    if not landed:
        return f"no provider prices {where}: materialize provider_prices for these days first"
    if not stored_rows:
        return (
            f"no independent provider prices {where}: provider_prices is empty on these days (their observations "
            "are resale, such as OpenRouter's own list, or absent); land a per-provider source "
            f"({PER_PROVIDER_SOURCES}) for these days"
        )
    return (
        f"no provider price {where} passes the spread config: all {stored_rows:,} are flagged, quantized or free "
        "(see the anomalies table; the config's include_flagged, include_quantized, include_free count them)"
    )


def _provider_prices_chart(prices: pd.DataFrame) -> dg.MetadataValue:
    """The latest day's prices of the most-served models, per provider."""
    from llmprices.analysis import charts  # matplotlib loads only when a chart is drawn

    return chart_md("provider prices", charts.provider_price_chart(prices))
