"""Dagster assets of the analytics: across-provider spreads every day, the cost trend refitted every month.

Both read the lake and call the pure functions of `spreads` and `trends`. What they add is where the
numbers live (one lake file per day or month, so history is kept and a rerun replaces exactly its own
partition) and how a user sees them: a markdown table of the headline figures and small PNG charts in
the materialization's metadata.
"""

import base64
import calendar
import io
from dataclasses import dataclass
from datetime import date

import dagster as dg
import pandas as pd
import pyarrow as pa
from PIL import Image
from pydantic import Field

from assets.analytics.spreads import DEFAULT_SOURCE_PRECEDENCE, SpreadConfig, provider_prices, spread_summary
from assets.analytics.trends import (
    SEED_ASSUMED_SIZES_B,
    TrendFit,
    annual_decline,
    dense_points,
    fit_min_price_trend,
    io_ratio_by_provider,
    moe_placement,
    moe_points,
    monthly_model_prices,
    monthly_provider_prices,
    per_provider_trends,
    proprietary_implied,
    trend_history,
)
from assets.catalog.assets import MODEL_CATALOG
from assets.catalog.catalog import load_curated
from assets.ingest import all_observations_keys
from assets.partitions import DAILY_PARTITIONS, MONTHLY_PARTITIONS, partition_days
from assets.warehouse import read_observations
from pipeline.lake import CATALOG, Lake

ANALYTICS_GROUP = "analytics"
DAILY_SPREADS = dg.AssetKey("daily_spreads")
COST_TRENDS = dg.AssetKey("cost_trends")

#: Daily tables, `<table>/snapshot_date=D/part-0.parquet`.
SPREADS = "spreads"
PROVIDER_PRICES = "provider_prices"
#: Monthly tables, `trends/<name>/month=YYYY-MM/part-0.parquet`.
TRENDS = "trends"

F, INT, S, B, D = pa.float64(), pa.int64(), pa.string(), pa.bool_(), pa.date32()  # schema shorthands
PROVIDER_PRICES_SCHEMA = pa.schema(
    [("model", S), ("provider", S), ("source", S), ("input", F), ("output", F), ("blended", F),
     ("is_quantized", B), ("is_free", B)]
)  # fmt: skip
SPREADS_SCHEMA = pa.schema(
    [("model", S), ("n_providers", INT), *[(c, F) for c in ("min", "p25", "median", "p75", "max", "max_over_min")],
     ("cheapest_provider", S), ("priciest_provider", S),
     *[(f"{side}_{stat}", F) for side in ("input", "output") for stat in ("min", "median", "max")],
     ("providers", S)]
)  # fmt: skip
_FIT_TYPES = {"n_models": INT, "models": S, "reason": S, "sufficient": B}
_FIT_FIELDS = [(name, _FIT_TYPES.get(name, F)) for name in TrendFit(0).as_row()]
_MONTH_PRICE = [("model", S), ("price", F), ("n_providers", F), ("n_days", INT)]
TREND_SCHEMAS = {
    "model_prices": pa.schema(_MONTH_PRICE),
    "min_price_fit": pa.schema([("min_providers", INT), *_FIT_FIELDS]),
    "provider_fits": pa.schema([("provider", S), *_FIT_FIELDS]),
    "moe_placement": pa.schema(
        [*_MONTH_PRICE, ("params_total_b", F), ("params_active_b", F), ("dense_equiv_b", F), ("position", F)]
    ),
    "proprietary_implied": pa.schema(
        [
            *_MONTH_PRICE,
            ("implied_max_params_b", F),
            ("assumed_params_b", F),
            ("trend_price_at_assumed", F),
            ("markup", F),
        ]
    ),
    "io_ratio": pa.schema(
        [("provider", S), ("n_models", INT), ("median", F), ("p10", F), ("p90", F), ("share_equal", F)]
    ),
    "fit_history": pa.schema([("trend_month", D), *_FIT_FIELDS]),
    "annual_decline": pa.schema(
        [
            ("model", S),
            ("n_months", INT),
            ("first_month", D),
            ("last_month", D),
            ("slope_per_year", F),
            ("factor", F),
            ("factor_low", F),
            ("factor_high", F),
        ]
    ),
}


class SpreadsConfig(dg.Config):
    """Which listings count as a model's price at a provider (see `assets.analytics.spreads`)."""

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


@dg.asset(
    key=DAILY_SPREADS,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=all_observations_keys(),
    group_name=ANALYTICS_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake"},
)
def daily_spreads(context: dg.AssetExecutionContext, config: SpreadsConfig) -> dg.MaterializeResult:
    """How far providers' prices for the same canonical model spread, per day: n_providers, min, p25,
    median, p75 and max of the 3:1 blended price, max_over_min, cheapest and priciest provider, and
    min/median/max of input and output prices. One price per provider and model: the first source in
    the run config's `source_precedence` speaks for it. OpenRouter's resale price, quantized builds and
    free tiers are left out unless the config lets them in; listings without a canonical model are left
    out (see `unmatched_models`). Lake: `spreads/snapshot_date=D/`, and the per-provider prices behind
    them in `provider_prices/snapshot_date=D/` (what `cost_trends` fits)."""
    lake = context.resources.lake.lake()
    days = partition_days(context)
    observations = read_observations(lake, days[0], days[-1])
    matched = observations[observations["model_matched"].astype(bool)]
    prices = provider_prices(matched, config.spread_config())
    if prices.empty:
        raise dg.Failure(
            f"no priced listings with a canonical model from {days[0]} to {days[-1]}: "
            "materialize the observations/<source> assets for these days first",
            allow_retries=False,
        )
    spreads = spread_summary(prices)
    for day in days:
        partition = (("snapshot_date", day.isoformat()),)
        lake.write_partition(
            PROVIDER_PRICES, partition, _arrow(prices[prices["snapshot_date"] == day], PROVIDER_PRICES_SCHEMA)
        )
        lake.write_partition(SPREADS, partition, _arrow(spreads[spreads["snapshot_date"] == day], SPREADS_SCHEMA))
    metadata = _spreads_metadata(days, prices, spreads, config.spread_config())
    metadata["unmatched_listings_left_out"] = len(observations) - len(matched)
    metadata["lake_path"] = lake.path(SPREADS)
    return dg.MaterializeResult(metadata=metadata)


def _spreads_metadata(days: list[date], prices: pd.DataFrame, spreads: pd.DataFrame, config: SpreadConfig) -> dict:
    """Row counts, and for the run's latest priced day the most-served models and the price chart."""
    from assets.analytics import charts  # matplotlib loads only when a chart is drawn (0.3 s off every command)

    latest = prices["snapshot_date"].max()
    today = spreads[spreads["snapshot_date"] == latest].sort_values(["n_providers", "model"], ascending=[False, True])
    competitive = today[today["n_providers"] >= 3]
    headline = today.head(10)[
        ["model", "n_providers", "min", "median", "max", "max_over_min", "cheapest_provider", "priciest_provider"]
    ]
    left_out = [name for name, kept in (("OpenRouter resale", config.include_openrouter_resale),
                                        ("quantized", config.include_quantized), ("free", config.include_free))
                if not kept]  # fmt: skip
    metadata = {
        "dagster/row_count": len(spreads),
        "days": len(days),
        "days_without_prices": len(set(days) - set(prices["snapshot_date"])),
        "latest_day": latest.isoformat(),
        "models": len(today),
        "models_with_3_providers": len(competitive),
        "spreads": dg.MetadataValue.md(
            f"**{latest}**, most-served models (USD per million tokens, 3:1 blend)\n\n"
            + headline.to_markdown(index=False, floatfmt=".3g")
        ),
        "provider_prices_chart": _chart_md("provider prices", charts.provider_price_chart(prices)),
        "selection": "left out: " + (", ".join(left_out) or "nothing") + "; source precedence: "
        + " > ".join(config.source_precedence),
    }  # fmt: skip
    if len(competitive):
        metadata["median_max_over_min"] = round(float(competitive["max_over_min"].median()), 2)
    return metadata


@dataclass(frozen=True)
class _MonthFit:
    """What one month's refit produced: the fit itself, its points, and the tables written to the lake."""

    month: str
    days: int
    fit: TrendFit
    points: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    history: pd.DataFrame


@dg.asset(
    key=COST_TRENDS,
    partitions_def=MONTHLY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[DAILY_SPREADS, MODEL_CATALOG],
    group_name=ANALYTICS_GROUP,
    kinds={"pandas", "parquet"},
    required_resource_keys={"lake"},
)
def cost_trends(context: dg.AssetExecutionContext, config: TrendsConfig) -> dg.MaterializeResult:
    """What serving a dense model of a given size costs, refitted on each month's prices. A model's price
    in the month is the median over its days of its daily minimum across providers (full precision, paid
    listings). The minimum-price trend (dense open-weight models with >= `min_providers` providers) gives
    fixed cost a, variable cost 10*b per 10B parameters, R², a quadratic, Theil-Sen, a seeded bootstrap 95%
    interval of the slope and the price of a 10T model; then per-provider trends, where MoE models sit
    between their active and total size, the dense size proprietary prices imply (and the mark-up at an
    assumed size), output/input price ratios, and the trend and each model's annual price decline month
    by month. Lake: `trends/<table>/month=YYYY-MM/`. A ranged run refits its months in order."""
    lake = context.resources.lake.lake()
    catalog, catalog_source = _catalog(lake)
    fits = [_refit_month(lake, key[:7], catalog, config) for key in context.partition_keys]
    metadata = _trends_metadata(fits[-1], config)
    metadata.update(months_refitted=len(fits), catalog=catalog_source, lake_path=lake.path(TRENDS))
    return dg.MaterializeResult(metadata=metadata)


def _catalog(lake: Lake) -> tuple[pd.DataFrame, str]:
    """The materialized `model_catalog`, else the curated table shipped with the code (said in metadata)."""
    table = lake.read_partition(CATALOG, ())
    if table is not None:
        return table.to_pandas(), f"lake table {CATALOG}/ (model_catalog)"
    return load_curated(), "curated assets/catalog/models.csv: model_catalog is not materialized yet"


def _refit_month(lake: Lake, month: str, catalog: pd.DataFrame, config: TrendsConfig) -> _MonthFit:
    prices = _month_provider_prices(lake, month)
    model_prices = monthly_model_prices(prices)
    _write_trend(lake, "model_prices", month, model_prices)  # before the history reads it back
    points = dense_points(model_prices, catalog)
    fit = fit_min_price_trend(points, config.min_providers)
    moe = moe_points(model_prices, catalog)
    proprietary = catalog.loc[catalog["open_weights"].astype("boolean").eq(False).fillna(False), "model"]
    price_history = _model_price_history(lake, month)
    history = trend_history(price_history, catalog, config.min_providers)
    tables = {
        "model_prices": model_prices,
        "min_price_fit": pd.DataFrame([{"min_providers": config.min_providers} | fit.as_row()]),
        "provider_fits": per_provider_trends(monthly_provider_prices(prices), catalog, config.min_models),
        "moe_placement": moe_placement(moe[moe["n_providers"] >= config.moe_min_providers], fit),
        "proprietary_implied": proprietary_implied(
            model_prices[model_prices["model"].isin(proprietary)], fit, config.assumed_sizes_b
        ),
        "io_ratio": io_ratio_by_provider(prices),
        "fit_history": history.rename(columns={"month": "trend_month"}),
        "annual_decline": annual_decline(price_history, config.min_months),
    }
    for name, frame in tables.items():
        _write_trend(lake, name, month, frame)
    return _MonthFit(month, prices["snapshot_date"].nunique(), fit, points, tables, history)


def _month_provider_prices(lake: Lake, month: str) -> pd.DataFrame:
    """The `provider_prices` rows of every day of `month` that `daily_spreads` wrote."""
    first = date.fromisoformat(f"{month}-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    frames = []
    for value in lake.partition_values(PROVIDER_PRICES):
        if first.isoformat() <= value <= last.isoformat():
            table = lake.read_partition(PROVIDER_PRICES, (("snapshot_date", value),))
            frames.append(table.to_pandas().assign(snapshot_date=date.fromisoformat(value)))
    if not frames or all(frame.empty for frame in frames):
        raise dg.Failure(
            f"no provider prices for {month}: materialize daily_spreads for its days first", allow_retries=False
        )
    return pd.concat(frames, ignore_index=True)


def _model_price_history(lake: Lake, month: str) -> pd.DataFrame:
    """Every month's model prices up to `month`, as `trends/model_prices` keeps them (a month never refitted
    is missing: backfill months in order, or in one ranged run)."""
    table = f"{TRENDS}/model_prices"
    frames = [
        lake.read_partition(table, (("month", value),)).to_pandas().assign(month=pd.Timestamp(f"{value}-01"))
        for value in lake.partition_values(table)
        if value <= month
    ]
    return pd.concat(frames, ignore_index=True)


def _write_trend(lake: Lake, name: str, month: str, frame: pd.DataFrame) -> None:
    lake.write_partition(f"{TRENDS}/{name}", (("month", month),), _arrow(frame, TREND_SCHEMAS[name]))


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """`frame`'s columns of `schema`, typed by it, so every partition of a table has the same schema
    (an empty day or month included); hive columns (snapshot_date, month) stay in the path only."""
    frame = frame[schema.names].copy()
    for field in schema:
        if field.type == D:
            frame[field.name] = pd.to_datetime(frame[field.name]).dt.date
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def _trends_metadata(result: _MonthFit, config: TrendsConfig) -> dict:
    """Headline figures of the run's last month as numbers and markdown tables, and the seed's charts."""
    from assets.analytics import charts

    fit, tables = result.fit, result.tables
    metadata = {
        "month": result.month,
        "days_with_prices": result.days,
        "models_priced": len(tables["model_prices"]),
        "minimum_price_trend": dg.MetadataValue.md(_fit_md(fit, config.min_providers)),
        "size_vs_price_chart": _chart_md("size vs minimum price", charts.size_price_chart(result.points, fit)),
        "trend_history_chart": _chart_md("trend history", charts.trend_history_chart(result.history)),
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
        frame = tables[name][columns]
        metadata[name] = dg.MetadataValue.md(
            frame.head(25).to_markdown(index=False, floatfmt=".4g") if len(frame) else "none"
        )
    if len(tables["moe_placement"]):
        metadata["moe_chart"] = _chart_md(
            "MoE placement", charts.moe_chart(tables["moe_placement"], result.points, fit)
        )
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
    return "| figure | value |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows)


def _chart_md(title: str, png: bytes) -> dg.MetadataValue:
    """A chart inlined as a markdown data URI, re-encoded with a 64-colour palette: it looks the same and is
    about 4x smaller, which matters because it is stored in the event log with every materialization."""
    small = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64).save(small, format="PNG", optimize=True)
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(small.getvalue()).decode()})")


ANALYTICS_ASSETS = [daily_spreads, cost_trends]
