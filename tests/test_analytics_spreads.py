"""Spreads over the reconciled provider prices: one price per provider, the seed's exclusions (flagged,
quantized, free) and the seed's 70B figures."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from llmprices.analysis.spreads import SpreadConfig, provider_price_rows, spread_prices, spread_summary
from llmprices.trust.reconcile import RECONCILED_COLUMNS

DAY = date(2025, 1, 15)
LLAMA_70B = "meta-llama/llama-3.1-70b-instruct"


def spreads_of(prices: pd.DataFrame, config: SpreadConfig | None = None) -> pd.DataFrame:
    """What `daily_spreads` computes from a day's `provider_prices`."""
    return spread_summary(spread_prices(prices, config))


def price(
    provider,
    blended,
    *,
    source="litellm",
    model=LLAMA_70B,
    day=DAY,
    quantization=None,
    is_free=False,
    model_variant="",
    trusted=True,
    output_ratio=3.0,
) -> dict:
    """One reconciled price whose input/output reproduce `blended` with output = output_ratio x input."""
    input_price = 4 * blended / (3 + output_ratio)
    return dict.fromkeys(RECONCILED_COLUMNS) | {
        "snapshot_date": day,
        "model": model,
        "model_variant": model_variant,
        "provider": provider,
        "source": source,
        "input": input_price,
        "output": input_price * output_ratio,
        "blended": blended,
        "quantization": quantization,
        "is_free": is_free,
        "trusted": trusted,
        "trust_flags": "" if trusted else "stale",
    }


def frame(*rows: dict) -> pd.DataFrame:
    """`provider_prices` rows as the table keeps them."""
    return provider_price_rows(pd.DataFrame(list(rows)))


def price_of(prices: pd.DataFrame, provider: str) -> pd.Series:
    rows = prices[prices["provider"] == provider]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_a_providers_cheapest_counted_variant_is_its_price():
    prices = frame(
        price("deepinfra", 0.30),
        price("deepinfra", 0.50, model_variant="fast"),  # a pricier tier of the same model
        price("together", 0.88),
    )
    spread = spread_prices(prices)
    assert spread[["provider", "blended"]].values.tolist() == [["deepinfra", 0.30], ["together", 0.88]]


def test_flagged_quantized_and_free_are_excluded_by_default_and_included_by_config():
    prices = frame(
        price("fireworks", 0.90),
        price("deepinfra", 0.20, quantization="fp8"),
        price("together", 0.18, model_variant="turbo"),  # Together's Turbo is FP8
        price("novita", 0.15, model_variant="fp8"),
        price("hyperbolic", 0.40, quantization="bf16"),  # full precision stays
        price("google-ai-studio", 0.0, is_free=True),
        price("chutes", 0.0, source="openrouter_endpoints", model_variant="free"),
        price("groq", 0.64, trusted=False),  # e.g. stale: a retired listing a list still carries
    )
    assert prices.set_index("provider").loc[["deepinfra", "together", "novita"], "is_quantized"].all()
    assert prices.set_index("provider").loc[["google-ai-studio", "chutes"], "is_free"].all()
    assert sorted(spread_prices(prices)["provider"]) == ["fireworks", "hyperbolic"]
    assert "groq" in set(spread_prices(prices, SpreadConfig(include_flagged=True))["provider"])
    quantized = spread_prices(prices, SpreadConfig(include_quantized=True))
    assert {"deepinfra", "together", "novita"} <= set(quantized["provider"])
    free = spread_prices(prices, SpreadConfig(include_free=True))
    assert {"google-ai-studio", "chutes"} <= set(free["provider"])
    assert spreads_of(prices, SpreadConfig(include_free=True))["max_over_min"].isna().all()  # min is 0


def test_partitions_written_before_the_trust_rules_count_as_trusted():
    prices = frame(price("together", 0.88)).assign(trusted=None)
    assert spread_prices(prices)["provider"].tolist() == ["together"]


def test_llama_70b_spread_reproduces_the_seed_min_median_max():
    """The seed's ArtificialAnalysis chart: cheapest $0.20, median ~$0.70, most expensive $2.90."""
    blended = {
        "deepinfra": 0.20,
        "lambda": 0.35,
        "hyperbolic": 0.40,
        "nebius": 0.60,
        "together": 0.70,
        "fireworks": 0.88,
        "groq": 0.90,
        "aws-bedrock": 1.20,
        "azure": 2.90,
    }
    prices = frame(
        *(price(p, b) for p, b in blended.items()),
        price("deepinfra", 0.10, quantization="fp8"),  # would be the min if counted
        price("sambanova", 0.0, is_free=True),
    )
    spreads = spreads_of(prices)
    assert len(spreads) == 1
    row = spreads.iloc[0]
    assert row["n_providers"] == 9
    assert (row["min"], row["median"], row["max"]) == pytest.approx((0.20, 0.70, 2.90))
    assert (row["p25"], row["p75"]) == pytest.approx((0.40, 0.90))
    assert row["max_over_min"] == pytest.approx(14.5)
    assert (row["cheapest_provider"], row["priciest_provider"]) == ("deepinfra", "azure")
    assert row["providers"] == ",".join(sorted(blended))
    # output = 3 x input in the fixture, so input = 4/6 of blended and output = 2 x blended
    assert (row["input_min"], row["input_median"], row["input_max"]) == pytest.approx(
        (0.2 * 4 / 6, 0.7 * 4 / 6, 2.9 * 4 / 6)
    )
    assert (row["output_min"], row["output_median"], row["output_max"]) == pytest.approx((0.4, 1.4, 5.8))


def test_spreads_are_per_day_and_model_with_alphabetical_ties():
    other_day = date(2025, 1, 16)
    prices = frame(
        price("b-provider", 1.0),
        price("a-provider", 1.0),
        price("c-provider", 1.0),
        price("a-provider", 0.5, model="qwen/qwen-2.5-72b-instruct"),
        price("a-provider", 2.0, day=other_day),
    )
    spreads = spreads_of(prices).set_index(["snapshot_date", "model"])
    tie = spreads.loc[(DAY, LLAMA_70B)]
    assert (tie["cheapest_provider"], tie["priciest_provider"], tie["max_over_min"]) == (
        "a-provider",
        "a-provider",
        1.0,
    )
    assert tie["providers"] == "a-provider,b-provider,c-provider"
    assert spreads.loc[(DAY, "qwen/qwen-2.5-72b-instruct"), "n_providers"] == 1
    assert spreads.loc[(other_day, LLAMA_70B), "min"] == 2.0
    expected = [
        "n_providers",
        "min",
        "p25",
        "median",
        "p75",
        "max",
        "max_over_min",
        "cheapest_provider",
        "priciest_provider",
        "input_min",
        "input_median",
        "input_max",
        "output_min",
        "output_median",
        "output_max",
        "providers",
    ]
    assert list(spreads.columns) == expected


def test_no_prices_give_an_empty_spread_table():
    empty = frame(price("x", 1.0)).iloc[0:0]
    assert spreads_of(empty).empty


def test_150k_random_rows_give_one_spread_per_day_and_model():
    rng = np.random.default_rng(0)
    n = 150_000
    providers = np.array([f"provider-{i}" for i in range(40)])
    sources = np.array(["html", "litellm", "openrouter_endpoints", "huggingface", "genai_prices"])
    days = pd.date_range("2025-01-01", periods=30).date
    blended = rng.lognormal(0, 1, n)
    reconciled = pd.DataFrame(
        {
            "snapshot_date": days[rng.integers(0, len(days), n)],
            "source": sources[rng.integers(0, len(sources), n)],
            "provider": providers[rng.integers(0, len(providers), n)],
            "model": np.array([f"org/model-{i}" for i in range(300)])[rng.integers(0, 300, n)],
            "input": blended,
            "output": blended,
            "blended": blended,
            "quantization": np.where(rng.random(n) < 0.1, "fp8", None),
            "is_free": rng.random(n) < 0.02,
            "model_variant": np.where(rng.random(n) < 0.05, "turbo", None),
            "trusted": rng.random(n) < 0.95,
        }
    )
    spreads = spreads_of(provider_price_rows(reconciled))
    assert len(spreads) == 30 * 300
    assert (spreads["n_providers"] <= 40).all()
