"""One month's refit of the seed's study: every `trends/<table>` of the month from its daily provider prices.

A model's price in the month is the median over its days of its daily minimum across providers (full
precision, paid listings). The minimum-price trend over dense open-weight models gives the fixed and
variable cost; per-provider lines, MoE placement, proprietary implied sizes, output/input ratios, the trend
refitted on every month so far and each model's annual decline follow from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from llmprices.analysis.trends import (
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
    #: assumed dense-equivalent size (billions) of proprietary models, for their mark-up
    assumed_sizes_b: dict[str, float] = field(default_factory=lambda: dict(SEED_ASSUMED_SIZES_B))


@dataclass(frozen=True)
class MonthFit:
    """What one month's refit produced: the fit, its points, every `trends/` table, the trend's history."""

    month: str
    days: int
    fit: TrendFit
    points: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    history: pd.DataFrame


def refit_month(
    month: str,
    prices: pd.DataFrame,
    catalog: pd.DataFrame,
    earlier_model_prices: pd.DataFrame,
    settings: TrendSettings | None = None,
) -> MonthFit:
    """The month's tables from its `provider_prices` rows (with `snapshot_date`) and the catalog;
    `earlier_model_prices` are the `trends/model_prices` rows of the months before (with `month`)."""
    settings = settings or TrendSettings()
    model_prices = monthly_model_prices(prices)
    points = dense_points(model_prices, catalog)
    fit = fit_min_price_trend(points, settings.min_providers)
    moe = moe_points(model_prices, catalog)
    proprietary = catalog.loc[catalog["open_weights"].astype("boolean").eq(False).fillna(False), "model"]
    earlier = [earlier_model_prices] if len(earlier_model_prices) else []
    model_prices_to_date = pd.concat([*earlier, model_prices], ignore_index=True)
    history = trend_history(model_prices_to_date, catalog, settings.min_providers)
    tables = {
        "model_prices": model_prices,
        "min_price_fit": pd.DataFrame([{"min_providers": settings.min_providers} | fit.as_row()]),
        "provider_fits": per_provider_trends(monthly_provider_prices(prices), catalog, settings.min_models),
        "moe_placement": moe_placement(moe[moe["n_providers"] >= settings.moe_min_providers], fit),
        "proprietary_implied": proprietary_implied(
            model_prices[model_prices["model"].isin(proprietary)], fit, settings.assumed_sizes_b
        ),
        "io_ratio": io_ratio_by_provider(prices),
        "fit_history": history.rename(columns={"month": "trend_month"}),
        "annual_decline": annual_decline(model_prices_to_date, settings.min_months),
    }
    return MonthFit(month, prices["snapshot_date"].nunique(), fit, points, tables, history)
