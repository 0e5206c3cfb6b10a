"""The catalog: curated facts as the override, then the Hub's answer for a model's repo, then its name."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from llmprices.catalog.catalog import (
    CATALOG_COLUMNS,
    CURATED_COLUMNS,
    build_catalog,
    catalog_from_observations,
    load_curated,
    repos_to_ask,
)
from llmprices.catalog.hf_params import HubParams

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)


def hub_params(repo, total, active=None, **kwargs) -> HubParams:
    fields = {"is_moe": None, "params_source": "hub safetensors"} | kwargs
    return HubParams(repo=repo, params_total_b=total, params_active_b=active, **fields)


def answers(*params: HubParams) -> dict[str, HubParams]:
    return {p.repo.lower(): p for p in params}


def no_sightings() -> pd.DataFrame:
    return pd.DataFrame(columns=["model", "hf_repo", "names", "first_seen", "last_seen", "sources"])


def test_curated_values_win_and_disagreements_over_10_percent_are_reported():
    catalog, report = build_catalog(
        load_curated(),
        no_sightings(),
        answers(
            hub_params("meta-llama/Llama-3.1-8B-Instruct", 8.2, 8.2),  # 2% off: fine
            hub_params("mistralai/Mixtral-8x7B-Instruct-v0.1", 23.0, 12.9),  # half: reported
        ),
    )
    row = catalog.set_index("model").loc["mistralai/mixtral-8x7b-instruct"]
    assert (row["params_total_b"], row["params_source"], row["curated"]) == (46.7, "curated", True)
    assert report == [
        {
            "model": "mistralai/mixtral-8x7b-instruct",
            "hf_repo": "mistralai/Mixtral-8x7B-Instruct-v0.1",
            "field": "params_total_b",
            "curated": 46.7,
            "hub": 23.0,
            "relative_difference": -0.507,
            "hub_source": "hub safetensors",
        }
    ]


def test_the_hub_fills_what_the_curated_table_leaves_empty():
    """Trinity-Mini's curated row says MoE and gives no size: the Hub's answer (any repo case) sizes it."""
    hub = hub_params("ARCEE-AI/Trinity-Mini", 26.1, 3.45, is_moe=True, params_source="computed from config",
                     params_vision_b=0.0, license="apache-2.0")  # fmt: skip
    catalog, report = build_catalog(load_curated(), no_sightings(), answers(hub))
    row = catalog.set_index("model").loc["arcee-ai/trinity-mini"]
    assert (row["params_total_b"], row["params_active_b"], row["params_source"]) == (26.1, 3.45, "computed from config")
    assert (row["is_moe"], row["params_vision_b"], row["curated"]) == (True, 0.0, True)
    assert report == []


def observations() -> pd.DataFrame:
    rows = [
        (D1, "openrouter", "openrouter", "qwen/qwen3-30b-a3b", "Qwen/Qwen3-30B-A3B"),  # curated
        (D2, "openrouter", "openrouter", "qwen/qwen3.5-35b-a3b", "Qwen/Qwen3.5-35B-A3B"),  # new, size in the name
        (D2, "huggingface", "novita", "Qwen/Qwen3.5-35B-A3B", "Qwen/Qwen3.5-35B-A3B"),  # the same, another source
        (D1, "openrouter", "openrouter", "z-ai/glm-5", None),  # before OpenRouter named repos
        (D2, "openrouter", "openrouter", "z-ai/glm-5", "zai-org/GLM-5"),  # no size in the name: the Hub's
        (D2, "openrouter", "openrouter", "moonshotai/kimi-k2.5", "moonshotai/Kimi-K2.5"),  # the Hub knows nothing
        (D2, "openrouter", "openrouter", "nvidia/nemotron-3-super-120b-a12b",
         "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16"),  # the Hub beats the name
        (D2, "litellm", "together", "acme/secret-sauce-2", None),  # closed: no repo, no size
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["snapshot_date", "source", "provider", "provider_model_id", "model_hint"])


HUB = answers(
    hub_params("zai-org/GLM-5", 744.0, 40.0, is_moe=True, params_vision_b=0.0),  # illustrative, not recorded
    hub_params("nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16", 120.67, 12.77, is_moe=True, params_vision_b=0.0),
    hub_params("moonshotai/Kimi-K2.5", None, params_source=None, notes=("404",)),
)


@pytest.fixture(scope="module")
def observed():
    return catalog_from_observations(observations(), HUB)


def test_every_observed_model_gets_a_row_sized_curated_hub_then_name(observed):
    catalog = observed.catalog.set_index("model")
    assert list(observed.catalog.columns) == CATALOG_COLUMNS
    sized = catalog.loc[
        [
            "qwen/qwen3-30b-a3b",
            "qwen/qwen3.5-35b-a3b",
            "zai-org/glm-5",
            "nvidia/nvidia-nemotron-3-super-120b-a12b-bf16",
        ],
        ["params_total_b", "params_active_b", "is_moe", "params_source", "name_token", "curated"],
    ]
    assert sized.astype(object).where(sized.notna(), None).values.tolist() == [
        [30.5, 3.3, True, "curated", "30b-a3b", True],
        [35.0, 3.0, True, "name", "35b-a3b", False],
        [744.0, 40.0, True, "hub safetensors", None, False],
        [120.67, 12.77, True, "hub safetensors", "120b-a12b", False],
    ]
    kimi = catalog.loc["moonshotai/kimi-k2.5"]
    assert pd.isna(kimi["params_total_b"]) and kimi["open_weights"] and kimi["hf_repo"] == "moonshotai/Kimi-K2.5"
    closed = catalog.loc["acme/secret-sauce-2"]
    assert pd.isna(closed["open_weights"]) and pd.isna(closed["params_total_b"])


def test_a_model_is_its_repo_across_sources_and_before_the_repo_was_named(observed):
    catalog = observed.catalog.set_index("model")
    qwen = catalog.loc["qwen/qwen3.5-35b-a3b"]
    assert (qwen["sources"], qwen["hf_repo"], qwen["first_seen"]) == (
        "huggingface,openrouter",
        "Qwen/Qwen3.5-35B-A3B",
        D2,
    )
    glm = catalog.loc["zai-org/glm-5"]
    assert (glm["first_seen"], glm["last_seen"]) == (D1, D2)  # the D1 row took the repo named on D2
    assert observed.keys.tolist()[3:5] == ["zai-org/glm-5", "zai-org/glm-5"]


def test_the_hub_is_asked_about_every_open_weight_repo(observed):
    repos = repos_to_ask(observed.catalog)
    assert {"zai-org/GLM-5", "moonshotai/Kimi-K2.5", "Qwen/Qwen3.5-35B-A3B", "Qwen/Qwen3-30B-A3B"} <= set(repos)
    assert "openai/gpt-4" not in repos and None not in repos


def test_curated_table_columns_and_types():
    catalog = load_curated()
    assert list(catalog.columns) == CURATED_COLUMNS
    assert catalog["model"].is_unique
    assert (catalog["model"] == catalog["model"].str.lower()).all()
    assert catalog["source_url"].str.startswith("https://").all()
    assert pd.api.types.is_datetime64_any_dtype(catalog["release_date"])
    counted = catalog[catalog["params_total_b"].notna()]
    assert (counted["params_source"] == "curated").all()
    assert (counted["params_active_b"] <= counted["params_total_b"]).all()
    dense = counted[counted["is_moe"] == False]  # noqa: E712 (nullable boolean)
    assert (dense["params_active_b"] == dense["params_total_b"]).all()
    moe = counted[counted["is_moe"] == True]  # noqa: E712
    assert (moe["params_active_b"] < moe["params_total_b"]).all()
    closed = catalog[catalog["open_weights"] == False]  # noqa: E712
    assert closed["params_total_b"].isna().all() and closed["hf_repo"].isna().all()


SEED_MODELS = {
    # open weights named by the seed analysis: (total, active)
    "meta-llama/llama-3-8b-instruct": (8.03, 8.03),
    "meta-llama/llama-3-70b-instruct": (70.6, 70.6),
    "meta-llama/llama-3.1-8b-instruct": (8.03, 8.03),
    "meta-llama/llama-3.1-70b-instruct": (70.6, 70.6),
    "meta-llama/llama-3.1-405b-instruct": (405.9, 405.9),
    "meta-llama/llama-3.3-70b-instruct": (70.6, 70.6),
    "qwen/qwen-2-72b-instruct": (72.7, 72.7),
    "qwen/qwen-2.5-72b-instruct": (72.7, 72.7),
    "mistralai/mixtral-8x7b-instruct": (46.7, 12.9),
    "mistralai/mixtral-8x22b-instruct": (140.6, 39.2),
    "databricks/dbrx-instruct": (132.0, 36.0),
    "deepseek/deepseek-v3": (671.0, 37.0),
}
SEED_PROPRIETARY = [
    "anthropic/claude-3.5-sonnet",
    "anthropic/claude-3-haiku",
    "openai/gpt-4o",
    "google/gemini-1.0-pro",
    "openai/gpt-4",
]


def test_curated_table_covers_the_seed_analysis():
    catalog = load_curated().set_index("model")
    for model, (total, active) in SEED_MODELS.items():
        row = catalog.loc[model]
        assert (row["params_total_b"], row["params_active_b"]) == (total, active), model
        assert row["open_weights"] and row["source_url"].startswith("https://huggingface.co/"), model
    for model in SEED_PROPRIETARY:
        row = catalog.loc[model]
        assert not row["open_weights"] and pd.isna(row["params_total_b"]), model
