"""Dagster assets of the analytics: one price per provider and model a day (`provider_prices`), how far they
spread (`daily_spreads`), and the seed's cost trends refitted every month (`cost_trends`, one asset per
`trends/<table>`).

Each reads the lake and calls the core's pure functions (`llmprices.analysis`). What they add is where the
numbers live (one lake file per day or month, so history is kept and a rerun replaces exactly its own
partition) and how a user sees them: headline figures as markdown tables and charts in the metadata.
"""

import calendar
from datetime import date

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.analytics.figures import provider_prices_day_figures, spreads_day_figures, tracked
from assets.keys import ALL_OBSERVATIONS, ANALYTICS_GROUP, COST_TRENDS, DAILY_SPREADS, MODEL_CATALOG, PROVIDER_PRICES
from assets.metadata import chart_md, rows_md
from assets.partitions import DAILY_PARTITIONS, MONTHLY_PARTITIONS, partition_days
from llmprices.analysis.monthly import MonthFit, TrendSettings, refit_month
from llmprices.analysis.spreads import DEFAULT_SOURCE_PRECEDENCE, SpreadConfig, one_price_per_provider, spread_summary
from llmprices.analysis.trends import SEED_ASSUMED_SIZES_B, TrendFit
from llmprices.catalog.catalog import load_curated
from llmprices.lake.query import connect
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import CATALOG, REPORT_FILE, REPORTS, SPREADS, TREND_TABLES
from llmprices.lake.tables import PROVIDER_PRICES as PROVIDER_PRICES_TABLE
from llmprices.report.monthly import monthly_report

MODEL_PRICES = "model_prices"
MIN_PRICE_FIT = "min_price_fit"


class ProviderPricesConfig(dg.Config):
    """Which listings count as a model's price at a provider (see `llmprices.analysis.spreads`)."""

    source_precedence: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SOURCE_PRECEDENCE),
        description="Who speaks for a provider listed by several sources, first wins; unlisted sources come last.",
    )
    include_openrouter_resale: bool = Field(False, description="Count OpenRouter's own (resale) price as a provider.")
    include_quantized: bool = Field(False, description="Count builds quantized below 16 bits (FP8, INT4, turbo...).")
    include_free: bool = Field(False, description="Count free tiers (price 0 or a `free` variant).")

    def spread_config(self) -> SpreadConfig:
        return SpreadConfig(
            source_precedence=tuple(self.source_precedence),
            include_openrouter_resale=self.include_openrouter_resale,
            include_quantized=self.include_quantized,
            include_free=self.include_free,
        )


class TrendsConfig(dg.Config):
    """Thresholds of the monthly refit; the defaults are the seed's choices."""

    min_providers: int = Field(
        3,
        description="Providers a dense open-weight model needs that month to enter the minimum-price trend: "
        "a minimum over one or two firms is not a competitive price.",
    )
    min_models: int = Field(5, description="Dense open-weight models a provider must price to get its own trend.")
    moe_min_providers: int = Field(2, description="Providers a MoE model needs that month to be placed on the trend.")
    min_months: int = Field(6, description="Months a model must be priced in to get an annual decline factor.")
    assumed_sizes_b: dict[str, float] = Field(
        default_factory=lambda: dict(SEED_ASSUMED_SIZES_B),
        description="Assumed dense-equivalent size (billions) of proprietary models, for their mark-up over the "
        "trend price at that size. The seed's GPT-4 at 950B is an estimate of its MoE serving cost.",
    )

    def settings(self) -> TrendSettings:
        return TrendSettings(
            min_providers=self.min_providers,
            min_models=self.min_models,
            moe_min_providers=self.moe_min_providers,
            min_months=self.min_months,
            assumed_sizes_b=dict(self.assumed_sizes_b),
        )


@dg.asset(
    key=PROVIDER_PRICES,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=ALL_OBSERVATIONS,
    group_name=ANALYTICS_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake"},
)
def provider_prices(context: dg.AssetExecutionContext, config: ProviderPricesConfig) -> dg.MaterializeResult:
    """One price per provider and canonical model a day: when several sources report a provider, the first in
    the run config's `source_precedence` speaks for it. OpenRouter's resale price, quantized builds and free
    tiers are left out unless the config lets them in; listings without a canonical model are left out (see
    `unmatched_models`). What `daily_spreads` and `cost_trends` read. Lake: `provider_prices/snapshot_date=D/`."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    observations = read_observations(lake, days[0], days[-1])
    matched = observations[observations["model_matched"].astype(bool)]
    selection = config.spread_config()
    prices = one_price_per_provider(matched, selection)
    if prices.empty:
        raise dg.Failure(
            f"no priced listings with a canonical model from {days[0]} to {days[-1]}: "
            "materialize the observations/<source> assets for these days first",
            allow_retries=False,
        )
    sources = sorted(prices["source"].unique())
    for day in days:
        partition = PROVIDER_PRICES_TABLE.partition(snapshot_date=day)
        day_prices = prices[prices["snapshot_date"] == day]
        lake.write_partition(PROVIDER_PRICES_TABLE, partition, PROVIDER_PRICES_TABLE.from_frame(day_prices))
        unmatched = int(((observations["snapshot_date"] == day) & ~observations["model_matched"].astype(bool)).sum())
        context.add_asset_metadata(
            provider_prices_day_figures(day_prices, sources, unmatched), partition_key=day.isoformat()
        )
    left_out = [name for name, kept in (("OpenRouter resale", selection.include_openrouter_resale),
                                        ("quantized", selection.include_quantized), ("free", selection.include_free))
                if not kept]  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "run_days": len(days),
            "run_days_without_prices": len(set(days) - set(prices["snapshot_date"])),
            "selection": "left out: "
            + (", ".join(left_out) or "nothing")
            + "; source precedence: "
            + " > ".join(selection.source_precedence),
            "lake_path": lake.path(PROVIDER_PRICES_TABLE),
        }  # fmt: skip
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
def daily_spreads(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """How far providers' prices for the same canonical model spread, per day: n_providers, min, p25,
    median, p75 and max of the 3:1 blended price, max_over_min, cheapest and priciest provider, and
    min/median/max of input and output prices, over the day's `provider_prices`. Lake: `spreads/snapshot_date=D/`."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    prices = _provider_prices(lake, days[0], days[-1])
    if prices.empty:
        raise dg.Failure(
            f"no provider prices from {days[0]} to {days[-1]}: materialize provider_prices for these days first",
            allow_retries=False,
        )
    spreads = spread_summary(prices)
    for day in days:
        day_spreads = spreads[spreads["snapshot_date"] == day]
        lake.write_partition(SPREADS, SPREADS.partition(snapshot_date=day), SPREADS.from_frame(day_spreads))
        context.add_asset_metadata(spreads_day_figures(day_spreads), partition_key=day.isoformat())
    latest = prices["snapshot_date"].max().isoformat()  # its chart: one per run keeps the event log small
    context.add_asset_metadata({"provider_prices_chart": _provider_prices_chart(prices)}, partition_key=latest)
    return dg.MaterializeResult(
        metadata={
            "run_days": len(days),
            "run_days_without_prices": len(set(days) - set(prices["snapshot_date"])),
            "lake_path": lake.path(SPREADS),
        }
    )


def _provider_prices(lake: Lake, first: date, last: date) -> pd.DataFrame:
    """The `provider_prices` rows of the days from `first` to `last`, with `snapshot_date`."""
    frames = []
    for value in lake.partition_values(PROVIDER_PRICES_TABLE):
        if first.isoformat() <= value <= last.isoformat():
            table = lake.read_partition(PROVIDER_PRICES_TABLE, PROVIDER_PRICES_TABLE.partition(snapshot_date=value))
            frames.append(table.to_pandas().assign(snapshot_date=date.fromisoformat(value)))
    if not frames:
        return PROVIDER_PRICES_TABLE.full_schema.empty_table().to_pandas()
    return pd.concat(frames, ignore_index=True)


def _provider_prices_chart(prices: pd.DataFrame) -> dg.MetadataValue:
    """The latest day's prices of the most-served models, per provider."""
    from llmprices.analysis import charts  # matplotlib loads only when a chart is drawn

    return chart_md("provider prices", charts.provider_price_chart(prices))


def _trend_spec(name: str) -> dg.AssetSpec:
    """One `trends/<name>` table: fitted from the month's provider prices and the catalog. The month's model
    prices also read the months before them (the trend's history and the annual decline are fitted on them)."""
    deps = [dg.AssetDep(PROVIDER_PRICES), dg.AssetDep(MODEL_CATALOG)]
    if name == MODEL_PRICES:
        previous_month = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        deps.append(dg.AssetDep(COST_TRENDS[MODEL_PRICES], partition_mapping=previous_month))
    elif name in ("fit_history", "annual_decline"):
        deps.append(dg.AssetDep(COST_TRENDS[MODEL_PRICES]))
    table = TREND_TABLES[name]
    return dg.AssetSpec(
        COST_TRENDS[name],
        deps=deps,
        description=f"{table.description[0].upper()}{table.description[1:]}. Lake: `{table.name}/month=YYYY-MM/`.",
        group_name=ANALYTICS_GROUP,
        kinds={"pandas", "parquet"},
    )


@dg.multi_asset(
    name="cost_trends",
    specs=[_trend_spec(name) for name in TREND_TABLES],
    partitions_def=MONTHLY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    required_resource_keys={"lake"},
)
def cost_trends(context: dg.AssetExecutionContext, config: TrendsConfig):
    """What serving a dense model of a given size costs, refitted on each month's prices (see
    `llmprices.analysis.monthly`): the minimum-price trend's fixed cost a, variable cost 10*b per 10B
    parameters, R², a quadratic, Theil-Sen, a seeded bootstrap 95% interval of the slope and the price of a 10T
    model; per-provider trends; where MoE models sit between their active and total size; the dense size
    proprietary prices imply; output/input ratios; the trend and each model's annual decline month by month.
    A ranged run refits its months in order."""
    lake = context.resources.lake.lake()
    catalog, catalog_source = _catalog(lake)
    for key in context.partition_keys:  # each month its own figures and charts
        month = key[:7]
        fit = refit_month(month, _month_prices(lake, month), catalog, _earlier_model_prices(lake, month),
                          config.settings())  # fmt: skip
        for name, frame in fit.tables.items():
            table = TREND_TABLES[name]
            lake.write_partition(table, table.partition(month=month), table.from_frame(frame))
        report = _write_report(lake, month)  # once the month's tables are all written
        for name in fit.tables:
            metadata = _month_metadata(name, fit, config.min_providers)
            if name == MIN_PRICE_FIT:
                metadata["report"] = dg.MetadataValue.path(report)  # the month's HTML report, in the lake
            context.add_asset_metadata(metadata, asset_key=COST_TRENDS[name], partition_key=key)
    for name, table in TREND_TABLES.items():
        yield dg.MaterializeResult(
            asset_key=COST_TRENDS[name],
            metadata={
                "run_months": len(context.partition_keys),
                "catalog": catalog_source,
                "lake_path": lake.path(table),
            },  # fmt: skip
        )


def _month_metadata(name: str, result: MonthFit, min_providers: int) -> dict:
    """What a month of `trends/<name>` shows: its rows, and the figures, tables and charts of its table."""
    frame = result.tables[name]
    metadata = {"dagster/row_count": len(frame), "month": result.month}
    if name == MIN_PRICE_FIT:
        return metadata | _trends_metadata(result, min_providers)
    if name == MODEL_PRICES:
        metadata |= tracked(frame, "price", "min_price")
    return metadata | {"preview": rows_md(frame)}


def _write_report(lake: Lake, month: str) -> str:
    """The month's HTML report (`llmprices report`), written into the lake from its tables; its path."""
    path = f"{lake.path(REPORTS, REPORTS.partition(month=month))}/{REPORT_FILE}"
    lake.write_bytes_atomically(path, monthly_report(connect(lake.root_uri), month).encode())
    return path


def _catalog(lake: Lake) -> tuple[pd.DataFrame, str]:
    """The materialized `model_catalog`, else the curated table shipped with the code (said in metadata)."""
    table = lake.read_partition(CATALOG, ())
    if table is not None:
        return table.to_pandas(), f"lake table {CATALOG.name}/ (model_catalog)"
    return load_curated(), "curated llmprices/catalog/models.csv: model_catalog is not materialized yet"


def _month_prices(lake: Lake, month: str) -> pd.DataFrame:
    """The `provider_prices` rows of every day of `month`."""
    first = date.fromisoformat(f"{month}-01")
    prices = _provider_prices(lake, first, first.replace(day=calendar.monthrange(first.year, first.month)[1]))
    if prices.empty:
        raise dg.Failure(
            f"no provider prices for {month}: materialize provider_prices for its days first", allow_retries=False
        )
    return prices


def _earlier_model_prices(lake: Lake, month: str) -> pd.DataFrame:
    """The model prices of every month before `month`, as `trends/model_prices` keeps them (a month never
    refitted is missing: backfill months in order, or in one ranged run)."""
    table = TREND_TABLES[MODEL_PRICES]
    frames = [
        lake.read_partition(table, table.partition(month=value)).to_pandas().assign(month=pd.Timestamp(f"{value}-01"))
        for value in lake.partition_values(table)
        if value < month
    ]
    return pd.concat(frames, ignore_index=True) if frames else table.schema.empty_table().to_pandas()


def _trends_metadata(result: MonthFit, min_providers: int) -> dict:
    """Headline figures of the month as numbers and markdown tables, and the seed's charts."""
    from llmprices.analysis import charts

    fit, tables = result.fit, result.tables
    metadata = {
        "days_with_prices": result.days,
        "models_priced": len(tables[MODEL_PRICES]),
        "minimum_price_trend": dg.MetadataValue.md(_fit_md(fit, min_providers)),
        "size_vs_price_chart": chart_md("size vs minimum price", charts.size_price_chart(result.points, fit)),
        "trend_history_chart": chart_md("trend history", charts.trend_history_chart(result.history)),
    }
    if fit.sufficient:
        metadata.update(
            fixed_cost_usd_per_mtok=round(float(fit.intercept), 5),
            variable_cost_usd_per_mtok_per_10b=round(float(fit.variable_cost_per_10b), 6),
            r2=round(float(fit.r2), 4),
            price_10t_usd_per_mtok=round(float(fit.price_10t), 3),
            models_fitted=fit.n_models,
        )
    sections = {
        "proprietary_implied": ["model", "price", "implied_max_params_b", "assumed_params_b", "markup"],
        "moe_placement": ["model", "price", "n_providers", "params_active_b", "params_total_b", "dense_equiv_b",
                          "position"],
        "provider_fits": ["provider", "n_models", "intercept", "variable_cost_per_10b", "r2", "price_10t"],
        "io_ratio": ["provider", "n_models", "median", "p10", "p90", "share_equal"],
        "annual_decline": ["model", "n_months", "factor", "factor_low", "factor_high"],
    }  # fmt: skip
    for name, columns in sections.items():
        metadata[name] = rows_md(tables[name][columns])
    if len(tables["moe_placement"]):
        metadata["moe_chart"] = chart_md("MoE placement", charts.moe_chart(tables["moe_placement"], result.points, fit))
    return metadata


def _fit_md(fit: TrendFit, min_providers: int) -> str:
    if not fit.sufficient:
        return f"No minimum-price trend this month: {fit.reason}."
    rows = [
        (f"models fitted (>= {min_providers} providers)", f"{fit.n_models}: {', '.join(fit.models)}"),
        ("mean providers per fitted model", f"{fit.mean_providers:.1f}"),
        ("fixed cost a, USD per million tokens", f"{fit.intercept:.4f}"),
        ("variable cost 10b, USD per million tokens per 10B parameters", f"{fit.variable_cost_per_10b:.4f}"),
        ("R²; quadratic R²", f"{fit.r2:.3f}; {fit.quad_r2:.3f}"),
        ("Theil-Sen variable cost per 10B", f"{10 * fit.theil_slope:.4f}"),
        ("bootstrap 95% interval, per 10B", f"{10 * fit.slope_ci_low:.4f} .. {10 * fit.slope_ci_high:.4f}"),
        ("predicted price of a 10T dense model", f"{fit.price_10t:.2f}"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["figure", "value"]).to_markdown(index=False)


ANALYTICS_ASSETS = [provider_prices, daily_spreads, cost_trends]
