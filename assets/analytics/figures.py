"""The analytics' headline figures as each day (or month) of a run shows them in the UI.

Numbers, not text, so Dagster's Plots view draws their history per partition: the minimum price and the spread
(max / min) of the seed's models, prices per source. A ranged run gives each day its own figures
(`context.add_asset_metadata(..., partition_key=day)`); markdown tables stay narrow enough for the metadata
column (6 columns), and what is wider belongs in the report.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

#: The models the seed's charts follow (its first figures: Llama 3.1 70B and 405B, Mixtral 8x22B; its
#: trend: Llama 3.1 8B and Qwen2.5 72B), and the MoE model it places.
TRACKED_MODELS = (
    "meta-llama/llama-3.1-8b-instruct",
    "meta-llama/llama-3.1-70b-instruct",
    "meta-llama/llama-3.1-405b-instruct",
    "qwen/qwen-2.5-72b-instruct",
    "mistralai/mixtral-8x22b-instruct",
    "deepseek/deepseek-v3",
)
#: Models in a day's spreads table, most-served first.
HEADLINE_MODELS = 10


def tracked(frame: pd.DataFrame, column: str, name: str, digits: int = 4) -> dict[str, float]:
    """`{name}/<model>` -> the value of `column` for each tracked model in `frame` (one row per model)."""
    rows = frame[frame["model"].isin(TRACKED_MODELS)].set_index("model")[column].dropna()
    return {f"{name}/{model.split('/')[-1]}": round(float(rows[model]), digits) for model in TRACKED_MODELS
            if model in rows.index}  # fmt: skip


def spreads_day_figures(day: pd.DataFrame) -> dict:
    """One day's spreads: how many models, how far their prices spread, the seed models' minimum price and
    spread, and the most-served models as a table."""
    ranked = day.sort_values(["n_providers", "model"], ascending=[False, True])
    competitive = ranked[ranked["n_providers"] >= 3]
    headline = pd.DataFrame(
        {
            "model": ranked["model"],
            "providers": ranked["n_providers"],
            "min (cheapest)": _price_by(ranked["min"], ranked["cheapest_provider"]),
            "median": ranked["median"].map("{:.3g}".format),
            "max (priciest)": _price_by(ranked["max"], ranked["priciest_provider"]),
            "max/min": ranked["max_over_min"].map("{:.3g}".format),
        }
    ).head(HEADLINE_MODELS)  # fmt: skip
    figures = {
        "dagster/row_count": len(day),
        "models_with_3_providers": len(competitive),
        "spreads": dg.MetadataValue.md(
            "Most-served models, USD per million tokens (3:1 blend)\n\n" + headline.to_markdown(index=False)
            if len(day)
            else "no prices"
        ),
        **tracked(day, "min", "min_price"),
        **tracked(day, "max_over_min", "max_over_min", digits=2),
    }
    if len(competitive):
        figures["median_max_over_min"] = round(float(competitive["max_over_min"].median()), 2)
    return figures


def _price_by(prices: pd.Series, providers: pd.Series) -> list[str]:
    return [f"{price:.3g} ({provider})" for price, provider in zip(prices, providers, strict=True)]


def provider_prices_day_figures(day: pd.DataFrame, sources: list[str], unmatched: int) -> dict:
    """One day's provider prices: how many, how many from each source (0 when a source gave none that day),
    and the day's listings left out for want of a canonical model."""
    by_source = day.groupby("source").size()
    return {
        "dagster/row_count": len(day),
        "models": int(day["model"].nunique()),
        "providers": int(day["provider"].nunique()),
        **{f"prices_from/{source}": int(by_source.get(source, 0)) for source in sources},
        "unmatched_listings_left_out": unmatched,
    }
