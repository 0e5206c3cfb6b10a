"""Across-provider price spreads per model and day: the seed's "same model, 10x price range" figures.

A spread compares *providers*, so every (day, model, provider) must count once however many sources
report it: otherwise a provider listed by five sources would weigh five times in the median. The
source earliest in `SpreadConfig.source_precedence` speaks for the provider (a provider's own page
before an aggregator's copy of it), then its cheapest listing of the model (a `fast` tier is not the
model's price when the standard tier exists).

Listings that are not the same product are left out by default, as the seed does: builds quantized
below 16 bits (a cheaper, slightly different model), free tiers (promotions, not prices), and
OpenRouter's own reseller price (a copy of someone else's price plus a fee, not a provider).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

#: Reported `quantization` values below 16-bit weights (`bf16`, `fp16`, `fp32` and unknown are kept).
LOW_PRECISION_QUANTIZATIONS = frozenset({"fp8", "fp6", "fp4", "int8", "int4", "awq", "gptq", "mxfp4", "nvfp4"})
#: `model_variant` tokens that mean a quantized build: Together's `turbo` is FP8 and its `lite` INT4.
QUANTIZED_VARIANT_TOKENS = frozenset({"fp8", "fp6", "fp4", "int8", "int4", "awq", "gptq", "turbo", "lite"})

#: Who speaks for a provider, first wins: its own pricing page, then a user's curated import, then
#: aggregators that copy provider pages (ArtificialAnalysis, genai-prices, LiteLLM), then routers
#: whose per-provider price may include their own discount or fee. Unlisted sources come after these.
DEFAULT_SOURCE_PRECEDENCE = (
    "html",
    "csv",
    "artificialanalysis",
    "genai_prices",
    "litellm",
    "huggingface",
    "openrouter_endpoints",
    "openrouter",
)

PROVIDER_PRICE_COLUMNS = [
    "snapshot_date",
    "model",
    "provider",
    "source",
    "input",
    "output",
    "blended",
    "is_quantized",
    "is_free",
]


@dataclass(frozen=True)
class SpreadConfig:
    """Which listings count as "the model's price at a provider", and which source wins a conflict."""

    source_precedence: tuple[str, ...] = DEFAULT_SOURCE_PRECEDENCE
    include_openrouter_resale: bool = False
    include_quantized: bool = False
    include_free: bool = False


def _variant_has(variants: pd.Series, tokens: frozenset[str]) -> pd.Series:
    """Whether `model_variant` has one of `tokens` (the matcher joins several with `+`: `free+fp8`).

    Decided once per distinct variant (there are a handful), then mapped onto the rows.
    """
    variants = variants.fillna("").astype(str).str.lower()
    decided = {v: not tokens.isdisjoint(re.split(r"[+\-:]", v)) for v in variants.unique()}
    return variants.map(decided).astype(bool)


def _flags(observations: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(is_quantized, is_free) per observation, from the quantization column and the model variant."""
    quantization = observations["quantization"].astype("string").str.lower()
    if "model_variant" in observations:
        quant_variant = _variant_has(observations["model_variant"], QUANTIZED_VARIANT_TOKENS)
        free_variant = _variant_has(observations["model_variant"], frozenset({"free"}))
    else:
        quant_variant = free_variant = pd.Series(False, index=observations.index)
    is_quantized = quantization.isin(LOW_PRECISION_QUANTIZATIONS).fillna(False).astype(bool) | quant_variant
    is_free = observations["is_free"].fillna(False).astype(bool) | free_variant
    return is_quantized, is_free


def one_price_per_provider(observations: pd.DataFrame, config: SpreadConfig | None = None) -> pd.DataFrame:
    """One price per (snapshot_date, model, provider): the table spreads, trends and charts share.

    Columns: snapshot_date, model, provider, source, input, output, blended (USD per million
    tokens), is_quantized, is_free (both False unless the config let such listings in).
    """
    config = config or SpreadConfig()
    is_quantized, is_free = _flags(observations)
    frame = pd.DataFrame(
        {
            "snapshot_date": observations["snapshot_date"],
            "model": observations["model"],
            "provider": observations["provider"],
            "source": observations["source"].astype(str),
            "input": observations["input_usd_per_mtok"].astype(float),
            "output": observations["output_usd_per_mtok"].astype(float),
            "blended": observations["blended_usd_per_mtok"].astype(float),
            "is_quantized": is_quantized,
            "is_free": is_free,
        }
    )
    keep = frame["blended"].notna() & frame["model"].notna()
    if not config.include_quantized:
        keep &= ~frame["is_quantized"]
    if not config.include_free:
        keep &= ~frame["is_free"]
    if not config.include_openrouter_resale:
        keep &= ~(frame["provider"].eq("openrouter") & frame["source"].eq("openrouter"))
    frame = frame[keep]
    rank = frame["source"].map({name: i for i, name in enumerate(config.source_precedence)})
    frame = frame.assign(_rank=rank.fillna(len(config.source_precedence)))
    frame = frame.sort_values(["snapshot_date", "model", "provider", "_rank", "source", "blended", "input"])
    frame = frame.drop_duplicates(["snapshot_date", "model", "provider"], keep="first")
    return frame[PROVIDER_PRICE_COLUMNS].reset_index(drop=True)


def spread_summary(prices: pd.DataFrame) -> pd.DataFrame:
    """Per (snapshot_date, model): how far provider prices for the same model spread.

    Columns: snapshot_date, model, n_providers, min, p25, median, p75, max (of the 3:1 blended
    price), max_over_min (NaN when the minimum is 0), cheapest_provider, priciest_provider (ties go
    to the alphabetically first), input_/output_ min, median, max, and `providers`, a sorted comma-
    separated string (a string, not a list, so the table stays a plain parquet/SQL column).
    """
    keys = ["snapshot_date", "model"]
    prices = prices.sort_values([*keys, "blended", "provider"])  # ties go to the alphabetically first
    grouped = prices.groupby(keys, sort=True)
    out = grouped.agg(
        n_providers=("provider", "size"),
        min=("blended", "min"),
        median=("blended", "median"),
        max=("blended", "max"),
        cheapest_provider=("provider", "first"),
        input_min=("input", "min"),
        input_median=("input", "median"),
        input_max=("input", "max"),
        output_min=("output", "min"),
        output_median=("output", "median"),
        output_max=("output", "max"),
    )
    quartiles = grouped["blended"].quantile([0.25, 0.75]).unstack().reindex(columns=[0.25, 0.75])
    out.insert(2, "p25", quartiles[0.25])
    out.insert(4, "p75", quartiles[0.75])
    out.insert(6, "max_over_min", (out["max"] / out["min"].where(out["min"] > 0)).astype(float))
    priciest = prices.sort_values([*keys, "blended", "provider"], ascending=[True, True, False, True])
    out.insert(
        out.columns.get_loc("cheapest_provider") + 1,
        "priciest_provider",
        priciest.groupby(keys, sort=True)["provider"].first(),
    )
    out["providers"] = prices.sort_values([*keys, "provider"]).groupby(keys, sort=True)["provider"].agg(",".join)
    return out.reset_index()


def latest_day(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the most recent snapshot_date (charts and reports describe "today")."""
    if frame.empty:
        return frame
    return frame[frame["snapshot_date"] == frame["snapshot_date"].max()]
