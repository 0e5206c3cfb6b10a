"""Parameter counts: config.json arithmetic, the Hub fetch over real HTTP, and the curated table's facts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from llmprices.catalog.catalog import CATALOG_COLUMNS, build_catalog, load_curated, merge_hub_params
from llmprices.catalog.hf_params import HubParams, count_params, fetch_hub_params, safetensors_total
from llmprices.http import HttpClient

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFIGS = FIXTURES / "hf_configs"
HUB = FIXTURES / "hf_hub" / "models"


def config(repo: str) -> dict:
    return json.loads((CONFIGS / f"{repo.replace('/', '__')}.json").read_text())


# published figures from the model cards: (total, active) in billions
PUBLISHED = {
    "mistralai/Mixtral-8x7B-Instruct-v0.1": (46.7, 12.9),
    "deepseek-ai/DeepSeek-V3": (671.0, 37.0),
    "Qwen/Qwen3-30B-A3B": (30.5, 3.3),
    "meta-llama/Llama-3.1-8B-Instruct": (8.03, 8.03),
}


@pytest.mark.parametrize("repo", sorted(PUBLISHED))
def test_count_params_matches_the_model_card_within_3_percent(repo):
    counted = count_params(config(repo))
    total, active = PUBLISHED[repo]
    assert counted.total / 1e9 == pytest.approx(total, rel=0.03)
    assert counted.active / 1e9 == pytest.approx(active, rel=0.03)
    assert counted.is_moe is (total != active)


def test_dense_count_is_exact_for_llama():
    """Llama-3.1-8B's safetensors hold exactly 8,030,261,248 parameters: the arithmetic has no slack."""
    assert count_params(config("meta-llama/Llama-3.1-8B-Instruct")).total == 8_030_261_248


def test_moe_layer_selection_fields():
    """`first_k_dense_replace` dense layers, `mlp_only_layers` and `decoder_sparse_step` each remove experts."""
    base = config("Qwen/Qwen3-30B-A3B")
    every_layer = count_params(base).total
    assert count_params({**base, "mlp_only_layers": [0, 1]}).total < every_layer
    assert count_params({**base, "decoder_sparse_step": 2}).total < every_layer
    assert count_params({**base, "first_k_dense_replace": 3}).total < every_layer
    shared = count_params({**base, "shared_expert_intermediate_size": 4096})
    assert shared.active - count_params(base).active == 48 * (3 * 2048 * 4096 + 2048)  # per MoE layer


def test_text_config_is_read_for_vision_language_configs():
    nested = {"architectures": ["Mistral3ForConditionalGeneration"], "text_config": config("Qwen/Qwen3-30B-A3B")}
    assert count_params(nested) == count_params(config("Qwen/Qwen3-30B-A3B"))


def test_tied_embeddings_count_once():
    llama = config("meta-llama/Llama-3.1-8B-Instruct")
    assert count_params(llama).total - count_params({**llama, "tie_word_embeddings": True}).total == 128256 * 4096


def test_safetensors_summary_is_refused_when_weights_are_packed():
    assert safetensors_total({"safetensors": {"parameters": {"BF16": 10}, "total": 10}}) == (10, None)
    fp8 = json.loads((HUB / "deepseek-ai" / "DeepSeek-V3.json").read_text())
    assert safetensors_total(fp8) == (684_531_386_000, None)  # FP8 stores one weight per element
    total, why = safetensors_total(
        json.loads((HUB / "hugging-quants" / "Meta-Llama-3.1-8B-Instruct-AWQ-INT4.json").read_text())
    )
    assert total is None and "I32" in why
    mxfp4 = {"safetensors": {"parameters": {"BF16": 1_800_000_000, "U8": 61_000_000_000}}}  # gpt-oss-120b style
    assert safetensors_total(mxfp4)[0] is None
    assert safetensors_total({"id": "x"}) == (None, "no safetensors summary")


@pytest.fixture
def hub(http_server):
    """The local server answers like the Hub: model info under /api, files under /{repo}/resolve/main."""
    for info in HUB.glob("*/*.json"):
        repo = f"{info.parent.name}/{info.stem}"
        http_server.add_file(f"/api/models/{repo}", info)
        http_server.add_file(f"/{repo}/resolve/main/config.json", CONFIGS / f"{info.parent.name}__{info.stem}.json")
    return http_server


def fetch(hub, repo: str) -> HubParams:
    http = HttpClient(max_retries=0, read_timeout_s=5)
    try:
        return fetch_hub_params(http, repo, api_base=f"{hub.base_url}/api", files_base=hub.base_url)
    finally:
        http.close()


def test_fetch_dense_model_takes_total_from_safetensors(hub):
    params = fetch(hub, "meta-llama/Llama-3.1-8B-Instruct")
    assert (params.params_total_b, params.params_active_b, params.is_moe) == (8.03, 8.03, False)
    assert params.params_source == "hub safetensors"
    assert (params.license, params.created, params.notes) == ("llama3.1", "2024-07-18", ())
    assert hub.paths_requested() == [
        "/api/models/meta-llama/Llama-3.1-8B-Instruct",
        "/meta-llama/Llama-3.1-8B-Instruct/resolve/main/config.json",
    ]


def test_fetch_moe_model_computes_active_from_config(hub):
    params = fetch(hub, "mistralai/Mixtral-8x7B-Instruct-v0.1")
    assert (params.params_total_b, params.params_active_b, params.is_moe) == (46.7, 12.88, True)
    assert params.params_source == "hub safetensors"


def test_fetch_without_safetensors_block_falls_back_to_config(hub):
    """The Qwen3-30B-A3B fixture has no `safetensors` block, as repos holding only .bin or GGUF files."""
    params = fetch(hub, "Qwen/Qwen3-30B-A3B")
    assert params.params_source == "computed from config"
    assert params.params_total_b == pytest.approx(30.5, rel=0.03)
    assert params.params_active_b == pytest.approx(3.3, rel=0.03)
    assert params.notes == ("no safetensors summary",)


def test_fetch_packed_quantized_repo_refuses_safetensors_and_computes(hub):
    """AWQ packs eight 4-bit weights per I32: the Hub's 1.98B would undercount the 8.03B model fourfold."""
    params = fetch(hub, "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4")
    assert params.params_source == "computed from config"
    assert (params.params_total_b, params.params_active_b) == (8.03, 8.03)
    assert "packed" in params.notes[0]


def test_fetch_gated_config_keeps_the_safetensors_total(hub):
    hub.add("/meta-llama/Llama-3.1-8B-Instruct/resolve/main/config.json", "Access restricted", status=401)
    params = fetch(hub, "meta-llama/Llama-3.1-8B-Instruct")
    assert (params.params_total_b, params.params_active_b, params.is_moe) == (8.03, None, None)
    assert "401" in params.notes[0]


def test_fetch_missing_repo_is_a_note_not_an_error(hub):
    params = fetch(hub, "nobody/nothing")
    assert params.params_total_b is None and params.params_source is None
    assert any("404" in note for note in params.notes)


def hub_params(repo, total, active=None, **kwargs) -> HubParams:
    fields = {"is_moe": None, "params_source": "hub safetensors", "license": None, "created": None} | kwargs
    return HubParams(repo=repo, params_total_b=total, params_active_b=active, **fields)


def test_merge_keeps_curated_values_and_reports_disagreements_over_10_percent():
    curated = load_curated()
    catalog, report = merge_hub_params(
        curated,
        [
            hub_params("meta-llama/Llama-3.1-8B-Instruct", 8.2, 8.2),  # 2% off: fine
            hub_params("mistralai/Mixtral-8x7B-Instruct-v0.1", 23.0, 12.9),  # half: reported
        ],
    )
    row = catalog.set_index("model").loc["mistralai/mixtral-8x7b-instruct"]
    assert (row["params_total_b"], row["params_source"]) == (46.7, "curated")
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


def test_merge_fills_what_the_curated_table_leaves_empty():
    curated = load_curated()
    empty = curated[curated["params_total_b"].isna() & curated["hf_repo"].notna()].iloc[0]
    hub = hub_params(empty["hf_repo"].upper(), 12.5, 3.1, is_moe=True, params_source="computed from config")
    catalog, report = merge_hub_params(curated, [hub])
    row = catalog.set_index("model").loc[empty["model"]]
    assert (row["params_total_b"], row["params_active_b"], row["params_source"]) == (12.5, 3.1, "computed from config")
    assert report == []


def test_build_catalog_against_the_local_hub(hub, caplog):
    http = HttpClient(max_retries=0, read_timeout_s=5)
    catalog, report = build_catalog(http, api_base=f"{hub.base_url}/api", files_base=hub.base_url)
    http.close()
    assert list(catalog.columns) == CATALOG_COLUMNS
    assert report == []  # the curated counts agree with the Hub's for every fixture repo
    assert "404" in caplog.text  # repos the local Hub does not have are logged, not fatal


def test_curated_table_columns_and_types():
    catalog = load_curated()
    assert list(catalog.columns) == CATALOG_COLUMNS
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
