"""Spread statistics and monthly-refitted cost trends: pure functions over observation frames.

`spreads` picks one price per provider and summarizes how far providers differ for the same model;
`trends` fits the seed's size -> minimum-price line (per month, per provider) and reads MoE,
proprietary-model and price-decline figures off it; `charts` renders the seed's charts as PNG bytes.
Dagster wiring lives elsewhere and only calls these.
"""

from assets.analytics.spreads import SpreadConfig, daily_spreads, provider_prices, spread_summary
from assets.analytics.trends import (
    TrendFit,
    annual_decline,
    dense_points,
    fit_min_price_trend,
    fit_price_trend,
    io_ratio_by_provider,
    moe_placement,
    moe_points,
    monthly_model_prices,
    monthly_provider_prices,
    per_provider_trends,
    proprietary_implied,
    trend_history,
)

__all__ = [
    "SpreadConfig",
    "TrendFit",
    "annual_decline",
    "daily_spreads",
    "dense_points",
    "fit_min_price_trend",
    "fit_price_trend",
    "io_ratio_by_provider",
    "moe_placement",
    "moe_points",
    "monthly_model_prices",
    "monthly_provider_prices",
    "per_provider_trends",
    "proprietary_implied",
    "provider_prices",
    "spread_summary",
    "trend_history",
]
