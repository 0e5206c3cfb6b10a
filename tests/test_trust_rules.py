"""The trust rules on hand-written observations: each flag raised where it should, with its reason, and kept
off the prices it should not touch."""

from __future__ import annotations

import pandas as pd
import pytest
from trust_frames import NO_RETIREMENTS, catalog, observations

from llmprices.trust.checkpoints import creator_checkpoints, trend_checkpoints
from llmprices.trust.flags import flag_counts, flag_observations, flagged_by
from llmprices.trust.reconcile import reconcile
from llmprices.trust.stale import load_retirements

L8, L70, L405 = (f"meta-llama/llama-3.1-{size}-instruct" for size in ("8b", "70b", "405b"))


def flag(rows: list[dict], retirements: pd.DataFrame = NO_RETIREMENTS) -> pd.DataFrame:
    return flag_observations(observations(rows), catalog(), retirements=retirements)


def reasons(flagged: pd.DataFrame, rule: str) -> list[str]:
    """Per row, the reason `rule` gave ("" where it did not fire)."""
    return [
        next((part for part in reason.split("; ") if rule_prefix(rule) in part), "")
        if flagged_by(flagged, rule)[i]
        else ""
        for i, reason in enumerate(flagged["trust_reason"])
    ]


def rule_prefix(rule: str) -> str:
    return {"order_violation": "order:", "unit_slip": "unit slip:"}.get(rule, "")


def market(model: str, prices: dict[str, tuple[float, float]], day="2025-08-01", source="litellm") -> list[dict]:
    return [
        {"provider": p, "model": model, "input_usd_per_mtok": i, "output_usd_per_mtok": o, "snapshot_date": day,
         "source": source, "provider_model_id": f"{p}/{model}"}
        for p, (i, o) in prices.items()
    ]  # fmt: skip


# -- resale ------------------------------------------------------------------------------------------------
def test_routers_are_resale_whatever_source_carries_them():
    flagged = flag(
        [
            {"source": "openrouter", "provider": "openrouter"},
            {"source": "genai_prices", "provider": "openrouter"},
            {"source": "litellm", "provider": "vercel-ai-gateway"},
            {"source": "csv", "provider": "openrouter"},  # a user's import of OpenRouter's price too
            {"source": "litellm", "provider": "together"},
        ]
    )
    assert flagged["trust_flags"].tolist() == ["resale"] * 4 + [""]
    assert flagged["trust_reason"][2] == "resale: vercel-ai-gateway resells other providers' models (in litellm)"


def test_a_curated_block_copied_from_openrouter_is_resale_for_open_weights_only():
    day = "2025-06-22"
    distill = "deepseek/deepseek-r1-distill-qwen-32b"
    flagged = flag(
        [
            {"source": "openrouter", "provider": "openrouter", "provider_model_id": distill, "model": distill,
             "input_usd_per_mtok": 0.075, "output_usd_per_mtok": 0.15, "snapshot_date": "2025-06-20"},
            {"source": "openrouter", "provider": "openrouter", "provider_model_id": "google/gemini-1.0-pro",
             "model": "google/gemini-1.0-pro", "input_usd_per_mtok": 0.5, "output_usd_per_mtok": 1.5,
             "snapshot_date": day},
            # genai-prices' `deepseek` block, 3 of whose 7 ids are OpenRouter's (`:free`): OpenRouter's price
            {"source": "genai_prices", "provider": "deepseek", "provider_model_id": "deepseek-r1-distill-qwen-32b",
             "model": distill, "input_usd_per_mtok": 0.075, "output_usd_per_mtok": 0.15, "router_id_share": 0.43,
             "snapshot_date": day},
            # the same block, DeepSeek's own id and price
            {"source": "genai_prices", "provider": "deepseek", "provider_model_id": "deepseek-chat",
             "model": "deepseek/deepseek-v3", "input_usd_per_mtok": 0.27, "output_usd_per_mtok": 1.1,
             "router_id_share": 0.43, "snapshot_date": day},
            # a proprietary model at OpenRouter's pass-through price: equality proves nothing
            {"source": "genai_prices", "provider": "google-ai-studio", "provider_model_id": "gemini-1.0-pro",
             "model": "google/gemini-1.0-pro", "input_usd_per_mtok": 0.5, "output_usd_per_mtok": 1.5,
             "router_id_share": 0.2, "snapshot_date": day},
        ]
    )  # fmt: skip
    assert flagged["offer_kind"].tolist() == ["resale", "resale", "resale", "curated", "curated"]
    assert flagged["trust_reason"][2] == (
        "resale: a copy of openrouter's own price of deepseek-r1-distill-qwen-32b (0.075/0.15 on 2025-06-20) "
        "in a block of router ids"
    )


def test_a_history_of_resale_only_is_all_flagged_and_reconciles_to_nothing():
    flagged = flag([{"source": "openrouter", "provider": "openrouter", "model": m} for m in (L8, L70, L405)])
    assert flagged["trust_flags"].tolist() == ["resale"] * 3
    assert reconcile(flagged).empty
    assert flag([]).empty


# -- stale -------------------------------------------------------------------------------------------------
def test_a_deprecation_date_applies_from_its_day_and_to_the_same_listing_in_other_sources():
    flagged = flag(
        [
            {"provider": "groq", "provider_model_id": "groq/llama-3.1-70b-versatile", "deprecation_date": "2025-01-24",
             "snapshot_date": "2025-05-14"},
            {"source": "genai_prices", "provider": "groq", "provider_model_id": "llama-3.1-70b-versatile",
             "snapshot_date": "2025-11-11"},
            {"provider": "azure", "provider_model_id": "azure/gpt-4.1", "deprecation_date": "2026-11-04",
             "snapshot_date": "2025-12-28"},  # a planned date is not stale yet
        ]
    )  # fmt: skip
    assert reasons(flagged, "stale") == [
        "deprecated 2025-01-24 per its own source",
        "deprecated 2025-01-24 per litellm",
        "",
    ]


def test_the_latest_statement_of_a_source_wins():
    """LiteLLM dated Claude 3.7 Sonnet 2025-06-01 for a few days, then 2026-02-01."""
    claude = {"provider": "anthropic", "provider_model_id": "claude-3-7-sonnet-20250219"}
    flagged = flag(
        [
            claude | {"deprecation_date": "2025-06-01", "snapshot_date": "2025-02-24"},
            claude | {"deprecation_date": "2026-02-01", "snapshot_date": "2025-06-05"},
        ]
    )
    assert flagged["trusted"].all()


def test_the_retirements_table_retires_a_listing_or_a_whole_provider():
    retirements = pd.DataFrame(
        {
            "provider": ["groq", "anyscale"],
            "provider_model_id": ["llama2-70b-4096", "*"],
            "retired_on": pd.to_datetime(["2024-05-07", "2024-08-01"]),
            "evidence": ["", ""],
        }
    )
    flagged = flag(
        [
            {"source": "genai_prices", "provider": "groq", "provider_model_id": "llama2-70b-4096"},
            {"provider": "groq", "provider_model_id": "groq/llama2-70b-4096"},
            {"provider": "anyscale", "provider_model_id": "anyscale/meta-llama/Llama-2-7b-chat-hf"},
            {"provider": "groq", "provider_model_id": "groq/llama-3.3-70b-versatile"},
        ],
        retirements,
    )
    assert reasons(flagged, "stale") == ["retired 2024-05-07 per the retirements table"] * 2 + [
        "retired 2024-08-01 per the retirements table",
        "",
    ]


def test_the_shipped_retirements_say_where_they_come_from():
    shipped = load_retirements().set_index(["provider", "provider_model_id"])
    assert shipped.loc[("groq", "llama2-70b-4096"), "retired_on"] == pd.Timestamp("2024-05-07")
    assert shipped["evidence"].str.contains("github.com|console.groq.com").all()


def _dropped_later(exact_source: str) -> list[dict]:
    """`exact_source` lists Groq's Llama 3 8B to 08-20 and keeps listing Groq; the other source keeps it."""
    other = "genai_prices" if exact_source == "litellm" else "litellm"
    rows = []
    for day in ["2025-08-01", "2025-08-10", "2025-08-20", "2025-09-01", "2025-09-10", "2025-09-20"]:
        rows.append({"source": exact_source, "provider": "groq", "provider_model_id": "groq/llama-3.3-70b-versatile",
                     "model": "meta-llama/llama-3.3-70b-instruct", "snapshot_date": day})  # fmt: skip
        if day < "2025-09-01":
            rows.append({"source": exact_source, "provider": "groq", "provider_model_id": "groq/llama3-8b-8192",
                         "model": "meta-llama/llama-3-8b-instruct", "snapshot_date": day})  # fmt: skip
        rows.append({"source": other, "provider": "groq", "provider_model_id": "llama3-8b-8192",
                     "model": "meta-llama/llama-3-8b-instruct", "snapshot_date": day})  # fmt: skip
    return rows


def test_a_listing_dropped_for_good_by_litellm_is_stale_where_it_lingers():
    flagged = flag(_dropped_later("litellm"))
    lingering = flagged[flagged["source"].eq("genai_prices")].set_index("snapshot_date")["trust_reason"]
    assert lingering[:"2025-08-20"].eq("").all()
    assert lingering["2025-09-01":].eq("dropped by litellm from 2025-09-01; not re-priced here since").all()


def test_genai_prices_consolidating_its_ids_is_no_evidence():
    assert flag(_dropped_later("genai_prices"))["trusted"].all()


# -- placeholder -------------------------------------------------------------------------------------------
def test_one_flat_price_across_sizes_is_a_placeholder_a_size_tier_is_not():
    flat = [{"provider": "hyperbolic", "model": m, "input_usd_per_mtok": 0.12, "output_usd_per_mtok": 0.30}
            for m in ("meta-llama/llama-3.2-3b-instruct", L8, L70, L405)]  # fmt: skip
    tier = [{"provider": "fireworks", "model": m, "input_usd_per_mtok": 0.9, "output_usd_per_mtok": 0.9}
            for m in ("qwen/qwen2.5-32b-instruct", L70, "qwen/qwen-2.5-72b-instruct",
                      "meta-llama/llama-3.2-90b-vision-instruct", "deepseek/deepseek-v3")]  # fmt: skip
    flagged = flag(flat + tier)
    assert flagged_by(flagged, "placeholder").tolist() == [True] * 4 + [False] * 5
    assert (
        reasons(flagged, "placeholder")[0]
        == "placeholder: hyperbolic at 0.12/0.3 for 4 models from 3.21B to 405.9B in litellm"
    )


# -- unit slip and outlier ---------------------------------------------------------------------------------
def test_a_hundredfold_price_is_a_unit_slip_not_an_outlier():
    rows = market(L8, {"groq": (0.05, 0.08), "deepinfra": (0.03, 0.05), "together": (0.18, 0.18),
                       "aws-bedrock": (0.22, 0.22)})  # fmt: skip
    rows.append({"source": "genai_prices", "provider": "aws-bedrock", "model": L8, "input_usd_per_mtok": 220,
                 "output_usd_per_mtok": 720, "snapshot_date": "2025-08-01"})  # fmt: skip
    flagged = flag(rows)
    assert flagged["trust_flags"].tolist() == [""] * 4 + ["unit_slip"]
    assert flagged["trust_reason"].iloc[-1] == "unit slip: 220/720 vs reference 0.05/0.08 (x4.4e+03)"


def test_with_one_rival_only_the_high_side_of_a_1000x_gap_is_the_slip():
    flagged = flag(market("qwen/qwen2.5-32b-instruct", {"mistral": (0.15, 0.15), "ibm-watsonx": (150, 150)}))
    assert flagged["trust_flags"].tolist() == ["", "unit_slip"]


def test_a_per_character_price_typed_as_per_token():
    gemini = "google/gemini-1.0-pro"
    flagged = flag(
        [
            {"provider": "google-vertex", "model": gemini, "input_usd_per_mtok": 0.5, "output_usd_per_mtok": 1.5,
             "input_usd_per_mchar": 0.125, "output_usd_per_mchar": 0.375, "snapshot_date": "2025-06-23"},
            # another day: a per-character price is a fact about the model
            {"source": "genai_prices", "provider": "google-ai-studio", "model": gemini, "input_usd_per_mtok": 0.125,
             "output_usd_per_mtok": 0.375, "snapshot_date": "2025-06-22"},
        ]
    )  # fmt: skip
    assert flagged["trust_reason"].tolist() == [
        "",
        "unit slip: 0.125/0.375 per token = the per-character price in litellm",
    ]


@pytest.mark.parametrize(
    ("prices", "flags"),
    [
        ([0.2, 0.2, 200, 200, 0.2, 0.2], [""] * 2 + ["unit_slip"] * 2 + [""] * 2),  # a jump that came back
        ([2.0, 2.0, 0.1, 0.1, 0.1], [""] * 5),  # a lasting price cut
    ],
)
def test_a_jump_that_comes_back_is_a_unit_slip(prices, flags):
    rows = [{"provider": "nscale", "provider_model_id": "m", "input_usd_per_mtok": p, "output_usd_per_mtok": p,
             "snapshot_date": f"2025-08-0{i + 1}"} for i, p in enumerate(prices)]  # fmt: skip
    assert flag(rows)["trust_flags"].tolist() == flags


def test_an_outlier_is_twentyfold_from_three_rivals_and_a_tenfold_cheap_price_is_kept():
    rivals = {"a": (0.6, 0.6), "b": (0.7, 0.7), "c": (0.9, 0.9)}
    flagged = flag(market(L70, rivals | {"cheap": (0.02, 0.03)}))
    assert flagged["trust_flags"].tolist() == ["", "", "", "outlier"]
    assert flagged["trust_reason"].iloc[-1] == "outlier: 0.0225 vs median 0.7 of 3 other providers (x0.0321)"
    assert flag(market(L70, rivals | {"cheap": (0.06, 0.07)}))["trusted"].all()


def test_the_market_of_a_day_one_list_was_not_captured_is_its_last_capture_within_ten_days():
    # LiteLLM captured the rivals on 06-21, not on 06-22; genai-prices' DeepSeek at a tenth of its price on 06-22
    rivals = market("deepseek/deepseek-v3", {"azure": (1.14, 4.56), "fireworks": (0.9, 0.9), "together": (1.25, 1.25)},
                    day="2025-06-21")  # fmt: skip
    slip = {"source": "genai_prices", "provider": "deepseek", "model": "deepseek/deepseek-v3",
            "input_usd_per_mtok": 0.014, "output_usd_per_mtok": 0.028}  # fmt: skip
    flagged = flag(rivals + [slip | {"snapshot_date": "2025-06-22"}, slip | {"snapshot_date": "2025-07-03"}])
    assert flagged["trust_reason"].tolist()[3:] == ["outlier: 0.0175 vs median 1.25 of 3 other providers (x0.014)", ""]


# -- order -------------------------------------------------------------------------------------------------
def test_a_larger_sibling_at_the_smaller_ones_price_flags_the_row_farther_from_its_market():
    same_price = {"snapshot_date": "2025-08-01", "input_usd_per_mtok": 0.59, "output_usd_per_mtok": 0.79}
    groq = [
        {"provider": "groq", "provider_model_id": "llama-3.1-405b-reasoning", "model": L405} | same_price,
        {"provider": "groq", "provider_model_id": "llama-3.1-70b-versatile", "model": L70} | same_price,
    ]
    rows = [
        *market(L405, {"together": (3.5, 3.5), "fireworks": (3.0, 3.0), "sambanova": (5, 10)}),
        *market(L70, {"together": (0.88, 0.88), "fireworks": (0.9, 0.9), "sambanova": (0.6, 1.2)}),
        *groq,
    ]
    flagged = flag(rows)
    assert flagged.loc[flagged["trust_flags"].ne(""), "provider_model_id"].tolist() == ["llama-3.1-405b-reasoning"]
    assert flagged["trust_reason"].iloc[-2] == (
        "order: meta-llama/llama-3.1-405b-instruct (405.9B) at 0.64 = meta-llama/llama-3.1-70b-instruct (70.6B) "
        "at 0.64 at groq in litellm"
    )


def test_distill_families_mix_bases_and_are_not_siblings():
    rows = [
        {"provider": "nscale", "model": "deepseek/deepseek-r1-distill-qwen-32b", "input_usd_per_mtok": 0.15,
         "output_usd_per_mtok": 0.15},
        {"provider": "nscale", "model": "deepseek/deepseek-r1-distill-qwen-7b", "input_usd_per_mtok": 0.2,
         "output_usd_per_mtok": 0.2},
    ]  # fmt: skip
    assert flag(rows)["trusted"].all()


# -- all together ------------------------------------------------------------------------------------------
def test_every_row_is_kept_and_counted_per_rule_and_source():
    flagged = flag(
        [
            {"source": "openrouter", "provider": "openrouter", "snapshot_date": "2025-08-01"},
            {"provider": "groq", "deprecation_date": "2025-01-01", "snapshot_date": "2025-08-02"},
            {"provider": "together", "snapshot_date": "2025-08-02"},
        ]
    )  # fmt: skip
    assert flagged["trust_flags"].tolist() == ["resale", "stale", ""]
    assert flagged["trusted"].tolist() == [False, False, True]
    counts = flag_counts(flagged).set_index("rule")
    assert counts.loc["resale"].to_dict() == {"litellm": 0, "openrouter": 1, "total": 1}
    assert counts.loc["stale"].to_dict() == {"litellm": 1, "openrouter": 0, "total": 1}
    assert counts["total"].sum() == 2


# -- creator checkpoints -----------------------------------------------------------------------------------
def test_creator_checkpoints_and_the_trends_text_models():
    checkpoints = creator_checkpoints(catalog()).set_index("model")
    assert checkpoints.loc[[L8, L405, "qwen/qwen-2.5-72b-instruct"], "creator_checkpoint"].all()
    why = checkpoints["checkpoint_why"]
    assert why["nousresearch/hermes-3-llama-3.1-70b"].startswith("nousresearch is not a lab that pretrains")
    assert why["deepseek/deepseek-r1-distill-qwen-32b"] == "carries qwen's family name 'qwen'"
    assert why["deepseek/deepseek-v3"] == "MoE"
    assert why["mistralai/mistral-large-2407"] == "licence mrl does not let anyone serve it"
    assert why["meta-llama/llama-guard-3-8b"] == "a task model (guard)"
    assert why["google/gemini-1.0-pro"] == "not open weights"
    assert checkpoints.loc["meta-llama/llama-3.2-90b-vision-instruct", "creator_checkpoint"]
    trend = set(trend_checkpoints(catalog())["model"])
    assert trend == {L8, L70, L405, "meta-llama/llama-3.2-3b-instruct", "qwen/qwen-2.5-72b-instruct",
                     "qwen/qwen2.5-32b-instruct"}  # fmt: skip
