"""The seed's study on history: the router proxy of months without per-provider prices, how often the proxy
holds, the creators' checkpoints as the trend's models, and an annual decline that says what stands behind it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from trust_frames import catalog

from llmprices.analysis.evidence import annual_decline_with_evidence, price_changes
from llmprices.analysis.monthly import MonthInputs, TrendSettings, refit_month
from llmprices.analysis.proxy import (
    first_market_size,
    proxy_agreement,
    router_list_prices,
    summarize_agreement,
)
from llmprices.analysis.trends import monthly_model_prices

L8, L70, L405 = (f"meta-llama/llama-3.1-{size}-instruct" for size in ("8b", "70b", "405b"))
HERMES = "nousresearch/hermes-3-llama-3.1-70b"
VISION = "meta-llama/llama-3.2-90b-vision-instruct"


def prices(rows: list[tuple], source: str = "litellm") -> pd.DataFrame:
    """`provider_prices` rows from (day, model, provider, blended)."""
    frame = pd.DataFrame(rows, columns=["snapshot_date", "model", "provider", "blended"])
    return frame.assign(
        snapshot_date=pd.to_datetime(frame["snapshot_date"]),
        source=source,
        input=frame["blended"],
        output=frame["blended"],
        trusted=True,
        is_quantized=False,
        is_free=False,
    )


def router_rows(day: str, prices_by_model: dict[str, float], **extra) -> list[dict]:
    """OpenRouter's own `/models` rows as observations."""
    return [
        {"snapshot_date": pd.Timestamp(day), "source": "openrouter", "provider": "openrouter", "model": model,
         "model_variant": "", "model_matched": True, "is_free": False, "input_usd_per_mtok": price,
         "output_usd_per_mtok": price, "blended_usd_per_mtok": price, "offer_kind": "resale"} | extra
        for model, price in prices_by_model.items()
    ]  # fmt: skip


def test_the_router_list_is_its_plain_paid_listing():
    rows = router_rows("2024-12-15", {L70: 0.2}) + router_rows("2024-12-15", {L70: 0.0}, model_variant="free")
    rows += router_rows("2024-12-15", {L8: 0.05}, source="litellm", provider="groq", offer_kind="curated")
    listed = router_list_prices(pd.DataFrame(rows))
    assert listed[["model", "provider", "blended"]].values.tolist() == [[L70, "openrouter", 0.2]]


def test_how_often_the_router_price_is_the_cheapest_providers():
    market = prices([("2025-03-01", L70, "a", 0.20), ("2025-03-01", L70, "b", 0.50), ("2025-03-01", L8, "a", 0.30),
                     ("2025-03-01", L405, "a", 0.90)])  # fmt: skip
    router = router_list_prices(pd.DataFrame(router_rows("2025-03-01", {L70: 0.205, L8: 0.10, L405: 1.20})))
    agreement = proxy_agreement(router, market).set_index("model")
    assert agreement["outcome"].to_dict() == {L70: "equal", L8: "router_cheaper", L405: "router_dearer"}
    assert agreement.loc[L70, "n_providers"] == 2
    summary = summarize_agreement(agreement.reset_index())
    assert (summary["pairs"], summary["equal"], summary["router_cheaper"]) == (
        3,
        pytest.approx(1 / 3),
        pytest.approx(1 / 3),
    )


def seed_market(day: str, scale: float = 1.0) -> list[tuple]:
    """Three providers of the Llama 3.1 trio at the seed's prices, a fine-tune and a vision model beside them."""
    base = {L8: 0.03, L70: 0.20, L405: 0.90, HERMES: 0.05, VISION: 1.20}
    return [(day, model, provider, round(price * scale * markup, 6))
            for model, price in base.items() for provider, markup in (("a", 1.0), ("b", 2.0), ("c", 3.0))]  # fmt: skip


def test_the_trend_fits_the_creators_text_checkpoints_only():
    month = prices(seed_market("2025-03-10"))
    inputs = MonthInputs(month, router_list_prices(pd.DataFrame(router_rows("2025-03-10", {L70: 0.2}))), pd.DataFrame())
    fit = refit_month("2025-03", inputs, catalog())
    assert set(fit.fit.models) == {L8, L70, L405}  # not the Hermes fine-tune at 0.05, not the 90B vision model
    assert fit.basis == "per_provider" and fit.fit.variable_cost_per_10b == pytest.approx(0.0215, abs=1e-4)
    everything = refit_month("2025-03", inputs, catalog(), TrendSettings(creator_checkpoints_only=False))
    assert set(everything.fit.models) == {L8, L70, L405, HERMES, VISION}


def test_a_month_without_per_provider_prices_is_priced_at_the_router_list():
    later = prices(seed_market("2025-02-10"))
    sizes = first_market_size(monthly_model_prices(later))
    assert sizes.to_dict() == dict.fromkeys([L8, L70, L405, HERMES, VISION], 3)
    router = router_list_prices(
        pd.DataFrame(router_rows("2024-12-15", {L8: 0.03, L70: 0.2, L405: 0.9, "x/new-7b": 0.01}))
    )
    december = refit_month("2024-12", MonthInputs(later.iloc[0:0], router, pd.DataFrame(), sizes), catalog())
    assert december.basis == "router_proxy" and december.days == 1
    model_prices = december.tables["model_prices"].set_index("model")
    assert model_prices.loc[L70, ["price", "n_providers", "basis"]].tolist() == [0.2, 3, "router_proxy"]
    assert np.isnan(model_prices.loc["x/new-7b", "n_providers"])  # never priced per provider: out of the fit
    assert set(december.fit.models) == {L8, L70, L405}
    assert december.tables["min_price_fit"]["basis"].tolist() == ["router_proxy"]
    without_proxy = refit_month("2024-12", MonthInputs(later.iloc[0:0], router, pd.DataFrame(), sizes), catalog(),
                                TrendSettings(router_proxy=False))  # fmt: skip
    assert without_proxy.tables["model_prices"].empty and not without_proxy.fit.sufficient


def test_repricings_are_counted_per_provider_and_a_switch_of_source_is_not_one():
    rows = prices([("2025-02-25", L8, "a", 0.10), ("2025-03-02", L8, "a", 0.08), ("2025-03-05", L8, "a", 0.08),
                   ("2025-03-09", L8, "a", 0.06), ("2025-03-02", L8, "b", 0.20)])  # fmt: skip
    switched = prices([("2025-03-12", L8, "b", 0.25)], source="genai_prices")
    counts = price_changes(pd.concat([rows, switched]), pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-31"))
    assert counts.to_dict() == {L8: 2}  # 0.10 -> 0.08 (from February) and 0.08 -> 0.06


def test_frozen_prices_get_no_factor_and_say_so():
    months = pd.date_range("2025-02-01", periods=8, freq="MS")
    frozen = [{"month": m, "model": "frozen/model", "price": 0.5, "n_price_changes": 0, "n_live_changes": 0}
              for m in months]  # fmt: skip
    live_only = [{"month": m, "model": "live/model", "price": 0.5, "n_price_changes": 0, "n_live_changes": 1}
                 for m in months]  # fmt: skip
    moving = [{"month": m, "model": "moving/model", "price": 1.0 / (1 + i), "n_price_changes": 1, "n_live_changes": 0}
              for i, m in enumerate(months)]  # fmt: skip
    decline = annual_decline_with_evidence(pd.DataFrame(frozen + live_only + moving)).set_index("model")
    assert decline["evidence"].to_dict() == {
        "frozen/model": "no_evidence",
        "live/model": "frozen_inputs",
        "moving/model": "price_changes",
    }
    assert decline.loc[["frozen/model", "live/model"], "factor"].isna().all()
    assert decline.loc["moving/model", "n_price_changes"] == 8 and decline.loc["moving/model", "factor"] > 1
