"""One price per provider, model, variant and day: which source wins and why, what the others said."""

from __future__ import annotations

import pandas as pd
from trust_frames import NO_RETIREMENTS, catalog, observations

from llmprices.trust.flags import flag_observations
from llmprices.trust.reconcile import disagreement_rates, reconcile, stated_pairs

L8 = "meta-llama/llama-3.1-8b-instruct"


def flagged(rows: list[dict]) -> pd.DataFrame:
    return flag_observations(observations(rows), catalog(), retirements=NO_RETIREMENTS)


def test_a_trusted_listing_beats_a_flagged_one_and_the_disagreement_is_recorded():
    day = {"snapshot_date": "2025-08-01"}
    rows = [
        {"provider": "aws-bedrock", "provider_model_id": "meta.llama3-1-8b-instruct-v1:0", "input_usd_per_mtok": 0.22,
         "output_usd_per_mtok": 0.22} | day,
        {"source": "genai_prices", "provider": "aws-bedrock", "provider_model_id": "meta.llama3-1-8b-instruct-v1%3A0",
         "input_usd_per_mtok": 220, "output_usd_per_mtok": 720} | day,
        {"provider": "groq", "input_usd_per_mtok": 0.05, "output_usd_per_mtok": 0.08} | day,
        {"provider": "deepinfra", "input_usd_per_mtok": 0.03, "output_usd_per_mtok": 0.05} | day,
    ]  # fmt: skip
    bedrock = reconcile(flagged(rows)).set_index("provider").loc["aws-bedrock"]
    assert (bedrock["source"], bedrock["input"], bedrock["n_sources"], bedrock["trusted"]) == ("litellm", 0.22, 2, True)
    assert bedrock["sources"] == "litellm,genai_prices"
    assert bedrock["chosen_because"] == "trusted over flagged (unit_slip)"
    assert (bedrock["agree"], bedrock["disagree"]) == ("", "genai_prices:0.000638")


def test_the_fresher_of_two_curated_lists_wins():
    rows = []
    for day in ["2025-07-01", "2025-07-10", "2025-07-20"]:
        rows.append({"provider": "fireworks", "snapshot_date": day})
        price = 0.2 if day >= "2025-07-10" else 0.1  # genai-prices re-priced it on 07-10: it looked later
        rows.append({"source": "genai_prices", "provider": "fireworks", "input_usd_per_mtok": price,
                     "output_usd_per_mtok": price, "snapshot_date": day})  # fmt: skip
    reconciled = reconcile(flagged(rows)).set_index("snapshot_date")
    first, last = reconciled.loc[pd.Timestamp("2025-07-01")], reconciled.loc[pd.Timestamp("2025-07-20")]
    assert (first["agree"], first["chosen_because"]) == ("litellm", "source order: genai_prices before litellm")
    assert (last["source"], last["input"]) == ("genai_prices", 0.2)
    assert last["chosen_because"] == "fresher: price set 2025-07-10 vs 2025-07-01"
    assert last["disagree"] == "litellm:2"


def test_a_providers_own_page_beats_a_curated_list():
    reconciled = reconcile(
        flagged([{"provider": "together"}, {"source": "html", "provider": "together", "input_usd_per_mtok": 0.08}])
    )
    assert reconciled[["source", "offer_kind", "chosen_because"]].values.tolist() == [
        ["html", "first_party", "first_party over curated"]
    ]


def test_resale_never_becomes_a_provider_price():
    rows = [{"source": "genai_prices", "provider": "openrouter", "input_usd_per_mtok": 0.01}, {"provider": "together"}]
    assert reconcile(flagged(rows))["provider"].tolist() == ["together"]


def test_a_capture_stands_for_the_days_until_the_next_one_for_ten_days_at_most():
    rows = [{"provider": "groq", "snapshot_date": day} for day in ["2025-07-01", "2025-07-05", "2025-07-20"]]
    rows.append({"source": "genai_prices", "provider": "novita", "snapshot_date": "2025-07-01"})
    reconciled = reconcile(flagged(rows))
    novita = reconciled[reconciled["provider"].eq("novita")]
    # carried to 07-05 (4 days later), not to 07-20 (19 days), and never to a day without any capture
    assert novita["snapshot_date"].dt.strftime("%m-%d").tolist() == ["07-01", "07-05"]
    assert novita["as_of"].dt.strftime("%m-%d").tolist() == ["07-01", "07-01"]
    only_days = reconcile(flagged(rows), pd.DatetimeIndex(["2025-07-05"]))
    assert only_days["provider"].tolist() == ["groq", "novita"]


def test_a_marketplace_copy_is_the_providers_price_only_without_its_direct_listing():
    rows = [
        {"source": "genai_prices", "provider": "nebius", "variant": "via-huggingface", "input_usd_per_mtok": 0.05},
        {"source": "genai_prices", "provider": "nebius", "provider_model_id": "y", "input_usd_per_mtok": 0.06},
    ]
    assert reconcile(flagged(rows))[["input", "variant"]].values.tolist() == [[0.06, ""]]


def test_disagreement_rate_per_pair_of_sources():
    rows = [{"provider": p, "model": L8} for p in ("a", "b", "c", "d")]
    rows += [
        {"source": "genai_prices", "provider": p, "input_usd_per_mtok": price, "output_usd_per_mtok": price}
        for p, price in (("a", 0.1), ("b", 0.1005), ("c", 0.2), ("d", 0.1))
    ]
    rates = disagreement_rates(stated_pairs(flagged(rows)))
    assert rates[["source_a", "source_b", "keys", "days", "disagree", "disagreement_rate"]].values.tolist() == [
        ["genai_prices", "litellm", 4, 1, 1, 0.25]
    ]
