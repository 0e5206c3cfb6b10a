"""Spreads: one price per provider (source precedence), the seed's exclusions, the seed's 70B figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from llmprices.analysis.spreads import SpreadConfig, one_price_per_provider, spread_summary
from llmprices.lake.tables import OBSERVATIONS

DAY = date(2025, 1, 15)


def spreads_of(observations: pd.DataFrame, config: SpreadConfig | None = None) -> pd.DataFrame:
    """What `daily_spreads` computes from a day's observations."""
    return spread_summary(one_price_per_provider(observations, config))


LLAMA_70B = "meta-llama/llama-3.1-70b-instruct"


def listing(
    provider,
    blended,
    *,
    source="html",
    model=LLAMA_70B,
    day=DAY,
    quantization=None,
    is_free=False,
    model_variant=None,
    variant="",
    output_ratio=3.0,
) -> dict:
    """One observation whose input/output reproduce `blended` with output = output_ratio x input."""
    input_price = 4 * blended / (3 + output_ratio)
    return {
        "observed_at": datetime(day.year, day.month, day.day, 6, tzinfo=UTC),
        "provider": provider,
        "provider_model_id": f"{provider}/{model}",
        "variant": variant,
        "model": model,
        "input_usd_per_mtok": input_price,
        "output_usd_per_mtok": input_price * output_ratio,
        "blended_usd_per_mtok": blended,
        "context_length": 131072,
        "quantization": quantization,
        "is_free": is_free,
        "price_is_tiered": False,
        "cache_read_usd_per_mtok": None,
        "latency_ms": None,
        "throughput_tps": None,
        "uptime_pct": None,
        "raw_sha256": "0" * 64,
        "snapshot_date": day,
        "source": source,
        "model_variant": model_variant,
        "model_matched": True,
        "model_hint": None,
    }


def frame(*rows: dict) -> pd.DataFrame:
    out = pd.DataFrame(list(rows))
    assert set(OBSERVATIONS.schema.names) <= set(out.columns)
    return out


def price_of(prices: pd.DataFrame, provider: str) -> pd.Series:
    rows = prices[prices["provider"] == provider]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_earliest_source_in_precedence_speaks_for_a_provider_then_its_cheapest_listing():
    observations = frame(
        listing("deepinfra", 0.25, source="openrouter_endpoints"),  # cheaper, but an aggregator's copy
        listing("deepinfra", 0.30, source="html"),
        listing("deepinfra", 0.50, source="html", variant="fast"),  # pricier tier of the same source
        listing("together", 0.88, source="litellm"),
        listing("together", 0.80, source="some_new_source"),  # unknown sources rank after every listed one
    )
    prices = one_price_per_provider(observations)
    assert len(prices) == 2
    assert (price_of(prices, "deepinfra")["source"], price_of(prices, "deepinfra")["blended"]) == ("html", 0.30)
    assert (price_of(prices, "together")["source"], price_of(prices, "together")["blended"]) == ("litellm", 0.88)

    aggregator_first = SpreadConfig(source_precedence=("openrouter_endpoints", "html"))
    assert price_of(one_price_per_provider(observations, aggregator_first), "deepinfra")["blended"] == 0.25


def test_quantized_free_and_openrouter_resale_are_excluded_by_default_and_included_by_config():
    observations = frame(
        listing("fireworks", 0.90),
        listing("deepinfra", 0.20, quantization="fp8"),
        listing("together", 0.18, model_variant="turbo"),  # Together's Turbo is FP8
        listing("novita", 0.15, model_variant="fp8"),
        listing("hyperbolic", 0.40, quantization="bf16"),  # full precision stays
        listing("google-ai-studio", 0.0, is_free=True),
        listing("chutes", 0.0, source="openrouter_endpoints", model_variant="free"),
        listing("openrouter", 0.12, source="openrouter"),  # OpenRouter's own resale price
        listing("openrouter", 0.35, source="csv"),  # a user-imported OpenRouter price is a listing like any
    )
    default = one_price_per_provider(observations)
    assert sorted(default["provider"]) == ["fireworks", "hyperbolic", "openrouter"]
    assert price_of(default, "openrouter")["source"] == "csv"
    assert not default["is_quantized"].any() and not default["is_free"].any()

    quantized = one_price_per_provider(observations, SpreadConfig(include_quantized=True))
    assert {"deepinfra", "together", "novita"} <= set(quantized["provider"])
    assert quantized.set_index("provider").loc[["deepinfra", "together", "novita"], "is_quantized"].all()

    free = one_price_per_provider(observations, SpreadConfig(include_free=True))
    assert {"google-ai-studio", "chutes"} <= set(free["provider"])
    assert spreads_of(observations, SpreadConfig(include_free=True))["max_over_min"].isna().all()  # min is 0

    resale = one_price_per_provider(observations, SpreadConfig(include_openrouter_resale=True))
    assert (price_of(resale, "openrouter")["source"], price_of(resale, "openrouter")["blended"]) == ("csv", 0.35)
    resale_only = observations[~observations["source"].eq("csv")]
    with_resale = one_price_per_provider(resale_only, SpreadConfig(include_openrouter_resale=True))
    assert price_of(with_resale, "openrouter")["blended"] == 0.12


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
    observations = frame(
        *(listing(p, b) for p, b in blended.items()),
        listing("deepinfra", 0.10, quantization="fp8"),  # would be the min if counted
        listing("sambanova", 0.0, is_free=True),
    )
    spreads = spreads_of(observations)
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
    observations = frame(
        listing("b-provider", 1.0),
        listing("a-provider", 1.0),
        listing("c-provider", 1.0),
        listing("a-provider", 0.5, model="qwen/qwen-2.5-72b-instruct"),
        listing("a-provider", 2.0, day=other_day),
    )
    spreads = spreads_of(observations).set_index(["snapshot_date", "model"])
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


def test_empty_observations_give_an_empty_spread_table():
    empty = frame(listing("x", 1.0)).iloc[0:0]
    assert spreads_of(empty).empty


def test_150k_random_rows_give_one_spread_per_day_and_model():
    rng = np.random.default_rng(0)
    n = 150_000
    providers = np.array([f"provider-{i}" for i in range(40)])
    sources = np.array(["html", "litellm", "openrouter_endpoints", "huggingface", "genai_prices"])
    days = pd.date_range("2025-01-01", periods=30).date
    blended = rng.lognormal(0, 1, n)
    observations = pd.DataFrame(
        {
            "snapshot_date": days[rng.integers(0, len(days), n)],
            "source": sources[rng.integers(0, len(sources), n)],
            "provider": providers[rng.integers(0, len(providers), n)],
            "model": np.array([f"org/model-{i}" for i in range(300)])[rng.integers(0, 300, n)],
            "input_usd_per_mtok": blended,
            "output_usd_per_mtok": blended,
            "blended_usd_per_mtok": blended,
            "quantization": np.where(rng.random(n) < 0.1, "fp8", None),
            "is_free": rng.random(n) < 0.02,
            "model_variant": np.where(rng.random(n) < 0.05, "turbo", None),
        }
    )
    spreads = spreads_of(observations)
    assert len(spreads) == 30 * 300
    assert (spreads["n_providers"] <= 40).all()
