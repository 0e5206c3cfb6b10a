"""The false-positive estimates of the price rules: a router's live prices judged as one more seller, and
curated prices another list corroborates, each counted against the rules that flag them."""

from __future__ import annotations

import pandas as pd
from trust_frames import NO_RETIREMENTS, catalog, observations

from llmprices.trust.false_positives import corroborated_rates, live_router_rates
from llmprices.trust.flags import flag_observations

L8, L70, L405 = (f"meta-llama/llama-3.1-{size}-instruct" for size in ("8b", "70b", "405b"))
DAY = "2025-08-01"


def rows_of(model: str, prices: dict[str, float], source: str = "litellm") -> list[dict]:
    return [
        {"provider": p, "model": model, "input_usd_per_mtok": v, "output_usd_per_mtok": v, "snapshot_date": DAY,
         "source": source, "provider_model_id": f"{p}/{model}"}
        for p, v in prices.items()
    ]  # fmt: skip


def router(model: str, price: float, **extra) -> dict:
    return {"source": "openrouter", "provider": "openrouter", "provider_model_id": model, "model": model,
            "input_usd_per_mtok": price, "output_usd_per_mtok": price, "snapshot_date": DAY} | extra  # fmt: skip


def test_a_live_router_price_far_below_three_providers_counts_as_an_outlier_false_positive():
    market = rows_of(L70, {"a": 0.6, "b": 0.8, "c": 0.9}) + rows_of(L8, {"a": 0.1, "b": 0.2})
    live = [router(L70, 0.02), router(L8, 0.01), router(L405, 1.0),  # no independent provider of 405B: not judged
            router(L70, 0.0, provider_model_id=f"{L70}:free", model_variant="free", is_free=True)]  # fmt: skip
    rates = live_router_rates(observations(market + live), catalog()).set_index("rule")
    assert rates.loc["any", ["rows_checked", "flagged"]].tolist() == [2, 1]
    assert rates.loc["outlier", ["flagged", "rate"]].tolist() == [1, 0.5]
    assert rates.loc["outlier", "examples"].startswith("outlier: 0.02 vs median 0.8 of 3 other providers")
    assert rates.loc[["placeholder", "unit_slip", "order_violation"], "flagged"].tolist() == [0, 0, 0]


def test_curated_prices_another_list_states_are_checked_and_a_placeholder_among_them_is_counted():
    # both lists give Hyperbolic one flat price from 8B to 405B: corroborated, and still a placeholder
    flat = {L8: 0.3, L70: 0.3, L405: 0.3}
    rows = [row for model, price in flat.items() for source in ("litellm", "genai_prices")
            for row in rows_of(model, {"hyperbolic": price}, source)]  # fmt: skip
    rows += rows_of(L8, {"together": 0.18}, "litellm") + rows_of(L8, {"together": 0.20}, "genai_prices")  # disagree
    flagged = flag_observations(observations(rows), catalog(), retirements=NO_RETIREMENTS)
    rates = corroborated_rates(flagged).set_index("rule")
    assert rates.loc["any", ["rows_checked", "flagged"]].tolist() == [6, 6]
    assert rates.loc["placeholder", "rate"] == 1.0 and rates.loc["outlier", "flagged"] == 0
    assert rates.loc["placeholder", "examples"] == " | ".join(
        f"placeholder: hyperbolic at 0.3/0.3 for 3 models from 8.03B to 405.9B in {source}"
        for source in ("litellm", "genai_prices")
    )


def test_no_corroborated_rows_give_no_rate():
    flagged = flag_observations(observations(rows_of(L8, {"a": 0.1})), catalog(), retirements=NO_RETIREMENTS)
    rates = corroborated_rates(flagged)
    assert rates["rows_checked"].eq(0).all() and rates["rate"].isna().all() and not pd.isna(rates["flagged"]).any()
