"""Across-provider price spreads per model and day: the seed's "same model, 10x price range" figures.

They read `provider_prices`, the reconciled table (`llmprices.trust.reconcile`): one price per provider,
model, variant and day, resale already out, each row with its trust flags. A spread compares *providers*, so
each (day, model, provider) counts once: its cheapest variant among those the spread config lets in (a
`fast` tier is not the model's price when the standard tier exists).

Left out by default, as the seed does: flagged rows (stale, placeholder, unit slip, outlier, order violation:
`include_flagged`), builds quantized below 16 bits (a cheaper, slightly different model: `include_quantized`)
and free tiers (promotions, not prices: `include_free`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from llmprices.trust.reconcile import LOW_PRECISION_QUANTIZATIONS

#: `model_variant` tokens that mean a quantized build: Together's `turbo` is FP8 and its `lite` INT4.
QUANTIZED_VARIANT_TOKENS = frozenset({"fp8", "fp6", "fp4", "int8", "int4", "awq", "gptq", "turbo", "lite"})

#: What a spread reads of `provider_prices`.
SPREAD_INPUT_COLUMNS = ["snapshot_date", "model", "provider", "source", "input", "output", "blended"]


@dataclass(frozen=True)
class SpreadConfig:
    """Which provider prices a spread counts besides trusted, full-precision, paid ones."""

    include_flagged: bool = False
    include_quantized: bool = False
    include_free: bool = False


def _variant_has(variants: pd.Series, tokens: frozenset[str]) -> pd.Series:
    """Whether `model_variant` has one of `tokens` (the matcher joins several with `+`: `free+fp8`).

    Decided once per distinct variant (there are a handful), then mapped onto the rows.
    """
    variants = variants.fillna("").astype(str).str.lower()
    decided = {v: not tokens.isdisjoint(re.split(r"[+\-:]", v)) for v in variants.unique()}
    return variants.map(decided).astype(bool)


def provider_price_rows(reconciled: pd.DataFrame) -> pd.DataFrame:
    """Reconciled prices (`llmprices.trust.reconcile.reconcile`) with `is_quantized` and `is_free`, as the
    `provider_prices` table keeps them: from the quantization a source reports and the model variant."""
    quantization = reconciled["quantization"].astype("string").str.lower()
    is_quantized = quantization.isin(LOW_PRECISION_QUANTIZATIONS).fillna(False).astype(bool) | _variant_has(
        reconciled["model_variant"], QUANTIZED_VARIANT_TOKENS
    )
    free_variant = _variant_has(reconciled["model_variant"], frozenset({"free"}))
    is_free = reconciled["is_free"].fillna(False).astype(bool) | free_variant
    return reconciled.assign(is_quantized=is_quantized, is_free=is_free)


def spread_prices(provider_prices: pd.DataFrame, config: SpreadConfig | None = None) -> pd.DataFrame:
    """One price per (snapshot_date, model, provider): its cheapest row among those `config` counts.

    Columns: `SPREAD_INPUT_COLUMNS` (USD per million tokens). Rows of partitions written before the trust
    rules (no `trusted` value) count as trusted.
    """
    config = config or SpreadConfig()
    keep = provider_prices["blended"].notna() & provider_prices["model"].notna()
    if not config.include_flagged and "trusted" in provider_prices:
        keep &= provider_prices["trusted"].astype("boolean").fillna(True).astype(bool)
    if not config.include_quantized:
        keep &= ~provider_prices["is_quantized"].astype(bool)
    if not config.include_free:
        keep &= ~provider_prices["is_free"].astype(bool)
    prices = provider_prices[keep].sort_values(["snapshot_date", "model", "provider", "blended", "source"])
    prices = prices.drop_duplicates(["snapshot_date", "model", "provider"], keep="first")
    return prices[SPREAD_INPUT_COLUMNS].reset_index(drop=True)


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
