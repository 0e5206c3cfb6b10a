"""The Dagster multi-asset of the seed's cost trends, refitted every month (`cost_trends`, one asset per
`trends/<table>`), from `provider_prices` and the catalog with the core's pure functions
(`llmprices.analysis.monthly`); a lake file per month, the headline figures and charts in the metadata."""

import calendar
from datetime import date, timedelta

import dagster as dg
import pandas as pd
from pydantic import Field

from assets.analytics.figures import tracked
from assets.analytics.prices import PER_PROVIDER_SOURCES
from assets.analytics.reads import catalog_of, provider_prices_between
from assets.keys import ANALYTICS_GROUP, COST_TRENDS, MODEL_CATALOG, PROVIDER_PRICES, observations_asset_key
from assets.metadata import chart_md, rows_md
from assets.partitions import MONTHLY_PARTITIONS
from llmprices.analysis.monthly import MonthFit, MonthInputs, TrendSettings, refit_month
from llmprices.analysis.proxy import (
    ROUTER_LIST_COLUMNS,
    ROUTER_SOURCE,
    first_market_size,
    has_independent_rows,
    router_list_prices,
    summarize_agreement,
)
from llmprices.analysis.spreads import SpreadConfig, spread_prices
from llmprices.analysis.trends import SEED_ASSUMED_SIZES_B, TrendFit, monthly_model_prices
from llmprices.lake.query import connect
from llmprices.lake.read import read_observations
from llmprices.lake.store import Lake
from llmprices.lake.tables import PROVIDER_PRICES as PROVIDER_PRICES_TABLE
from llmprices.lake.tables import REPORT_FILE, REPORTS, TREND_TABLES
from llmprices.report.monthly import NoPricesThatMonth, monthly_report

MODEL_PRICES = "model_prices"
MIN_PRICE_FIT = "min_price_fit"
#: The router whose own list prices a month without per-provider prices (`llmprices.analysis.proxy`).
ROUTER_LIST = observations_asset_key("openrouter")
NO_REPORT = "none: the month has no provider prices (priced by the router proxy), and the report reads them"
#: Days before a month whose prices its first repricings compare with.
LEAD_IN_DAYS = 31


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
    include_flagged: bool = Field(
        False, description="Count provider prices a trust rule flagged (stale, placeholder, unit_slip, outlier...)."
    )
    creator_checkpoints_only: bool = Field(
        True,
        description="Fit size -> price lines on the creators' own dense text checkpoints only (no third-party "
        "fine-tunes or merges, no vision-language models; llmprices.trust.checkpoints).",
    )
    router_proxy: bool = Field(
        True,
        description="In a month without any per-provider price, price models at OpenRouter's own list (a measured "
        "proxy: docs/trust-rules.md), a model entering the fit if its first per-provider month had min_providers.",
    )
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
            include_flagged=self.include_flagged,
            creator_checkpoints_only=self.creator_checkpoints_only,
            router_proxy=self.router_proxy,
            assumed_sizes_b=dict(self.assumed_sizes_b),
        )


def _trend_spec(name: str) -> dg.AssetSpec:
    """One `trends/<name>` table: fitted from the month's provider prices and the catalog, and OpenRouter's own
    list (the proxy of a month without per-provider prices, and the live moves behind the annual decline). The
    month's model prices also read the months before them (the trend's history and the annual decline)."""
    deps = [dg.AssetDep(PROVIDER_PRICES), dg.AssetDep(MODEL_CATALOG), dg.AssetDep(ROUTER_LIST)]
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
    catalog, catalog_source = catalog_of(lake)
    settings = config.settings()
    market_size = _MarketSize(lake, settings)
    fits = []
    for key in context.partition_keys:  # each month its own figures and charts
        month = key[:7]
        fit = refit_month(month, _month_inputs(lake, month, settings, market_size), catalog, settings)
        for name, frame in fit.tables.items():
            table = TREND_TABLES[name]
            lake.write_partition(table, table.partition(month=month), table.from_frame(frame))
        report = _write_report(lake, month)  # once the month's tables are all written
        for name in fit.tables:
            metadata = _month_metadata(name, fit, config.min_providers)
            if name == MIN_PRICE_FIT:  # the month's HTML report, in the lake
                metadata["report"] = dg.MetadataValue.path(report) if report else NO_REPORT
            context.add_asset_metadata(metadata, asset_key=COST_TRENDS[name], partition_key=key)
        fits.append(fit)
    for name, table in TREND_TABLES.items():
        metadata = {"run_months": len(fits), "catalog": catalog_source, "lake_path": lake.path(table)}
        if name == MIN_PRICE_FIT:
            metadata["months"] = rows_md(_months_md(fits), rows=len(fits))
            proxy = _proxy_md(fits)
            metadata["router_proxy_check"] = rows_md(proxy)
            if len(proxy):
                metadata |= {"router_proxy_pairs": int(proxy["pairs"][0]),
                             "router_proxy_equal_share": round(float(proxy["equal"][0]), 4)}  # fmt: skip
        yield dg.MaterializeResult(asset_key=COST_TRENDS[name], metadata=metadata)


def _month_metadata(name: str, result: MonthFit, min_providers: int) -> dict:
    """What a month of `trends/<name>` shows: its rows, and the figures, tables and charts of its table."""
    frame = result.tables[name]
    metadata = {"dagster/row_count": len(frame), "month": result.month}
    if name == MIN_PRICE_FIT:
        return metadata | _trends_metadata(result, min_providers)
    if name == MODEL_PRICES:
        metadata |= tracked(frame, "price", "min_price")
    return metadata | {"preview": rows_md(frame)}


def _write_report(lake: Lake, month: str) -> str | None:
    """The month's HTML report (`llmprices report`), written into the lake from its tables; its path, or None
    for a month without provider prices (priced by the router proxy: the report reads provider prices)."""
    path = f"{lake.path(REPORTS, REPORTS.partition(month=month))}/{REPORT_FILE}"
    try:
        html = monthly_report(connect(lake.root_uri), month)
    except NoPricesThatMonth:
        return None
    lake.write_bytes_atomically(path, html.encode())
    return path


def _month_inputs(lake: Lake, month: str, settings: TrendSettings, market_size: "_MarketSize") -> MonthInputs:
    """The month's provider prices and OpenRouter's list, from `LEAD_IN_DAYS` before it (the first repricings
    of the month compare with them), and what a proxy month needs; a clear failure when nothing can price it."""
    first, last = _month_bounds(month)
    lead_in = first - timedelta(days=LEAD_IN_DAYS)
    prices = provider_prices_between(lake, lead_in, last)
    router = router_list_prices(
        read_observations(lake, lead_in, last, sources=[ROUTER_SOURCE], columns=ROUTER_LIST_COLUMNS)
    )
    in_month = prices["snapshot_date"].between(first, last)
    if not in_month.any():
        _fail_without_prices(month, read_observations(lake, first, last), settings)
    sizes = market_size.get() if not in_month.any() else pd.Series(dtype=float)
    return MonthInputs(prices, router, _earlier_model_prices(lake, month), sizes)


def _fail_without_prices(month: str, observations: pd.DataFrame, settings: TrendSettings) -> None:
    """Raise the truth about a month without provider prices, unless the router proxy can price it."""
    if observations.empty:
        message = f"no observations for {month}: materialize the observations/<source> assets for its days first"
    elif has_independent_rows(observations):
        message = f"no provider prices for {month}: materialize provider_prices for its days first"
    elif settings.router_proxy:
        return
    else:
        message = (
            f"no independent provider prices for {month}: its {len(observations):,} observations are resale "
            f"(OpenRouter's own list is a router's price); land a per-provider source ({PER_PROVIDER_SOURCES}) "
            "for these days, or set router_proxy to price the month at OpenRouter's list"
        )
    raise dg.Failure(message, allow_retries=False)


class _MarketSize:
    """Each model's provider count in its first per-provider month, read once per run (a proxy month needs
    it; it comes from every month of `provider_prices`, later ones included)."""

    def __init__(self, lake: Lake, settings: TrendSettings):
        self._lake, self._settings, self._sizes = lake, settings, None

    def get(self) -> pd.Series:
        if self._sizes is None:
            selection = SpreadConfig(include_flagged=self._settings.include_flagged)
            months = sorted({value[:7] for value in self._lake.partition_values(PROVIDER_PRICES_TABLE)})
            monthly = [  # a month of provider prices in memory at a time
                monthly_model_prices(
                    spread_prices(provider_prices_between(self._lake, *_month_bounds(month)), selection)
                )
                for month in months
            ]
            self._sizes = (
                first_market_size(pd.concat(monthly, ignore_index=True)) if monthly else pd.Series(dtype=float)
            )
        return self._sizes


def _month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


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
        "basis": result.basis,
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
        "annual_decline": ["model", "n_months", "factor", "factor_low", "factor_high", "n_price_changes", "evidence"],
    }  # fmt: skip
    for name, columns in sections.items():
        metadata[name] = rows_md(tables[name][columns])
    if len(tables["moe_placement"]):
        metadata["moe_chart"] = chart_md("MoE placement", charts.moe_chart(tables["moe_placement"], result.points, fit))
    return metadata


def _months_md(fits: list[MonthFit]) -> pd.DataFrame:
    """The run's months side by side: basis, models, a, 10b, R²."""
    return pd.DataFrame(
        [
            (f.month, f.basis, f.fit.n_models, f.fit.intercept, f.fit.variable_cost_per_10b, f.fit.r2,
             ", ".join(model.split("/", 1)[-1] for model in f.fit.models))
            for f in fits
        ],
        columns=["month", "basis", "n", "a", "10b", "r2", "models"],
    )  # fmt: skip


def _proxy_md(fits: list[MonthFit]) -> pd.DataFrame:
    """How often the router proxy held over the run's months: OpenRouter's own price against the cheapest
    provider captured the same day, overall and per month with such days."""
    checks = {fit.month: fit.proxy_check for fit in fits if len(fit.proxy_check)}
    rows = [("all", summarize_agreement(pd.concat(checks.values())))] if checks else []
    rows += [(month, summarize_agreement(check)) for month, check in checks.items()]
    return pd.DataFrame([{"month": month} | summary for month, summary in rows])


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
