"""One month's refit of the seed's study: every `trends/<table>` of the month from its daily provider prices.

A model's price in the month is the median over its days of its daily minimum across providers (trusted,
full precision, paid: `spread_prices`). The minimum-price trend is fitted on the creators' own dense
checkpoints of known size (`llmprices.trust.checkpoints.trend_checkpoints`: no third-party fine-tunes or merges,
no vision-language models) with enough providers; a month without any per-provider price uses the router proxy
(`llmprices.analysis.proxy`). Per-provider lines, MoE placement, proprietary implied sizes, output/input ratios,
the trend refitted on every month so far and each model's annual decline with its evidence follow from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from llmprices.analysis.evidence import annual_decline_with_evidence, price_changes
from llmprices.analysis.proxy import PER_PROVIDER, ROUTER_PROXY, proxy_agreement, proxy_model_prices
from llmprices.analysis.spreads import SpreadConfig, spread_prices
from llmprices.analysis.trends import (
    SEED_ASSUMED_SIZES_B,
    TrendFit,
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
from llmprices.trust.checkpoints import trend_checkpoints


@dataclass(frozen=True)
class TrendSettings:
    """Thresholds of the monthly refit; the defaults are the seed's choices."""

    #: providers a dense open-weight model needs that month to enter the minimum-price trend
    min_providers: int = 3
    #: dense open-weight models a provider must price to get its own trend
    min_models: int = 5
    #: providers a MoE model needs that month to be placed on the trend
    moe_min_providers: int = 2
    #: months a model must be priced in to get an annual decline factor
    min_months: int = 6
    #: count provider prices a trust rule flagged
    include_flagged: bool = False
    #: fit size -> price lines on the creators' own dense text checkpoints only (else every dense open model)
    creator_checkpoints_only: bool = True
    #: in a month without per-provider prices, price models at the router's own list (a documented proxy)
    router_proxy: bool = True
    #: assumed dense-equivalent size (billions) of proprietary models, for their mark-up
    assumed_sizes_b: dict[str, float] = field(default_factory=lambda: dict(SEED_ASSUMED_SIZES_B))


@dataclass(frozen=True)
class MonthInputs:
    """What a month's refit reads: `provider_prices` rows and the router's list (`proxy.router_list_prices`)
    of the month and of the days before it (whose last prices tell the month's first repricings), the
    `trends/model_prices` rows of earlier months (with `month`), and each model's first per-provider market
    size (`proxy.first_market_size`, for a proxy month)."""

    prices: pd.DataFrame
    router_prices: pd.DataFrame
    earlier_model_prices: pd.DataFrame
    market_size: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


@dataclass(frozen=True)
class MonthFit:
    """What one month's refit produced: the fit, its points, every `trends/` table, the trend's history."""

    month: str
    days: int
    basis: str
    fit: TrendFit
    points: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    #: the router's list price against the cheapest provider's on the month's days both exist
    #: (`proxy.proxy_agreement`): how far the proxy of months without per-provider prices holds
    proxy_check: pd.DataFrame
    history: pd.DataFrame


def refit_month(
    month: str, inputs: MonthInputs, catalog: pd.DataFrame, settings: TrendSettings | None = None
) -> MonthFit:
    """The month's tables (`YYYY-MM`) from its inputs and the catalog."""
    settings = settings or TrendSettings()
    first = pd.Timestamp(f"{month}-01")
    last = first + pd.offsets.MonthEnd(0)
    counted = _dated(spread_prices(inputs.prices, SpreadConfig(include_flagged=settings.include_flagged)))
    router = _dated(inputs.router_prices)
    month_prices = counted[counted["snapshot_date"].between(first, last)]
    model_prices = monthly_model_prices(month_prices).assign(basis=PER_PROVIDER)
    days = month_prices["snapshot_date"].nunique()
    router_month = router[router["snapshot_date"].between(first, last)]
    if model_prices.empty and settings.router_proxy and len(router_month):
        model_prices = proxy_model_prices(monthly_model_prices(router_month), inputs.market_size)
        days = router_month["snapshot_date"].nunique()
    model_prices["n_price_changes"] = _per_model(model_prices, price_changes(counted, first, last))
    model_prices["n_live_changes"] = _per_model(model_prices, price_changes(router, first, last))

    trend_catalog = trend_checkpoints(catalog) if settings.creator_checkpoints_only else catalog
    points = dense_points(model_prices, trend_catalog)
    fit = fit_min_price_trend(points, settings.min_providers)
    basis = model_prices["basis"].iloc[0] if len(model_prices) else PER_PROVIDER
    moe = moe_points(model_prices, catalog)
    proprietary = catalog.loc[catalog["open_weights"].astype("boolean").eq(False).fillna(False), "model"]
    to_date = pd.concat([_filled(inputs.earlier_model_prices), model_prices], ignore_index=True)
    history = trend_history(to_date, trend_catalog, settings.min_providers)
    tables = {
        "model_prices": model_prices,
        "min_price_fit": pd.DataFrame([{"min_providers": settings.min_providers} | fit.as_row() | {"basis": basis}]),
        "provider_fits": per_provider_trends(monthly_provider_prices(month_prices), trend_catalog, settings.min_models),
        "moe_placement": moe_placement(moe[moe["n_providers"] >= settings.moe_min_providers], fit),
        "proprietary_implied": proprietary_implied(
            model_prices[model_prices["model"].isin(proprietary)], fit, settings.assumed_sizes_b
        ),
        "io_ratio": io_ratio_by_provider(month_prices),
        "fit_history": history.rename(columns={"month": "trend_month"}),
        "annual_decline": annual_decline_with_evidence(to_date[to_date["basis"].ne(ROUTER_PROXY)], settings.min_months),
    }
    proxy_check = _proxy_check(inputs.prices, router_month, settings)
    return MonthFit(month, days, basis, fit, points, tables, proxy_check, history)


def _proxy_check(prices: pd.DataFrame, router_month: pd.DataFrame, settings: TrendSettings) -> pd.DataFrame:
    """The proxy against the providers captured on the day itself (a price carried from an earlier capture
    may be out of date), both sides as a spread counts them."""
    as_of = pd.to_datetime(prices.get("as_of", prices["snapshot_date"]))
    captured = prices[as_of.eq(pd.to_datetime(prices["snapshot_date"]))]
    counted = _dated(spread_prices(captured, SpreadConfig(include_flagged=settings.include_flagged)))
    return proxy_agreement(router_month, counted[counted["snapshot_date"].isin(router_month["snapshot_date"])])


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(snapshot_date=pd.to_datetime(frame["snapshot_date"]))


def _per_model(model_prices: pd.DataFrame, counts: pd.Series) -> pd.Series:
    return model_prices["model"].map(counts).fillna(0).astype("int64")


def _filled(earlier: pd.DataFrame) -> pd.DataFrame:
    """Earlier months' model prices, those written before the evidence columns existed read as per-provider
    months without counted changes."""
    defaults = {"basis": PER_PROVIDER, "n_price_changes": 0, "n_live_changes": 0}
    return earlier.assign(**{column: earlier.get(column, pd.Series(dtype=object)) for column in defaults}).fillna(
        defaults
    )
