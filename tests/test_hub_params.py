"""Sizes from the Hugging Face Hub: config.json arithmetic per architecture, and the fetch over real HTTP.

The local server (`hub_server`) answers on the Hub's own routes from `fixtures/hub/`, whose README says per
repo which figures were recorded, which are published figures and which are from memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmprices.catalog.config_count import count_config
from llmprices.catalog.hf_params import HubParams, fetch_hub_params, safetensors_total
from llmprices.http import HttpClient

HUB_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hub"


def config(repo: str) -> dict:
    return json.loads((HUB_FIXTURES / "files" / repo / "config.json").read_text())


def info(repo: str) -> dict:
    return json.loads((HUB_FIXTURES / "api" / "models" / f"{repo}.json").read_text())


def fetch(hub, repo: str) -> HubParams:
    http = HttpClient(max_retries=0, read_timeout_s=5)
    try:
        return fetch_hub_params(http, repo, api_base=f"{hub.base_url}/api", files_base=hub.base_url)
    finally:
        http.close()


# -- config.json arithmetic -------------------------------------------------------------------------------
def test_dense_count_is_exact_for_llama():
    """Llama-3.1-8B's safetensors hold exactly 8,030,261,248 parameters: the arithmetic has no slack."""
    counted = count_config(config("meta-llama/Llama-3.1-8B-Instruct"))
    assert (counted.total, counted.language_active, counted.is_moe) == (8_030_261_248, 8_030_261_248, False)


def test_tied_embeddings_count_once():
    llama = config("meta-llama/Llama-3.1-8B-Instruct")
    untied, tied = count_config(llama).total, count_config({**llama, "tie_word_embeddings": True}).total
    assert untied - tied == 128256 * 4096


def test_moe_layer_selection_fields():
    """`first_k_dense_replace` dense layers, `mlp_only_layers` and `decoder_sparse_step` each remove experts;
    Qwen's shared expert (with its sigmoid gate) is used by every token."""
    base = config("Qwen/Qwen3-30B-A3B")
    every_layer = count_config(base).total
    assert count_config({**base, "mlp_only_layers": [0, 1]}).total < every_layer
    assert count_config({**base, "decoder_sparse_step": 2}).total < every_layer
    assert count_config({**base, "first_k_dense_replace": 3}).total < every_layer
    shared = count_config({**base, "shared_expert_intermediate_size": 4096})
    assert shared.language_active - count_config(base).language_active == 48 * (3 * 2048 * 4096 + 2048)


def test_text_config_is_read_for_vision_language_configs():
    nested = {"architectures": ["Mistral3ForConditionalGeneration"], "text_config": config("Qwen/Qwen3-30B-A3B")}
    assert count_config(nested).total == count_config(config("Qwen/Qwen3-30B-A3B")).total


def test_nemotron_3_super_matches_the_checkpoint_headers_to_the_tensor():
    """Recorded: API total 123,611,033,088 (BF16 weights + 41 F32 router biases of 512), MTP 2,942,324,736
    BF16 (+ its router bias), inactive experts 107,898,470,400: a latent-MoE Mamba hybrid, counted exactly."""
    count = count_config(config("nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16"))
    assert count.mtp == 2_942_324_736 + 512
    assert count.inactive_experts == 107_898_470_400
    assert count.language_total + count.mtp == 123_611_033_088


def test_qwen3_next_active_matches_the_checkpoint():
    """Qwen3-Coder-Next (Gated DeltaNet + gated attention): 79,674,391,296 stored, 3,874,929,408 active."""
    count = count_config(config("Qwen/Qwen3-Coder-Next"))
    assert (count.language_total, count.language_active) == (79_674_391_296, 3_874_929_408)


def test_olmoe_matches_its_recorded_tensor_count():
    """OLMoE-1B-7B-0125: 6,919,161,856 parameters, 1,282,017,280 active."""
    olmoe = {"model_type": "olmoe", "hidden_size": 2048, "num_hidden_layers": 16, "vocab_size": 50304,
             "intermediate_size": 1024, "num_attention_heads": 16, "num_key_value_heads": 16,
             "num_experts": 64, "num_experts_per_tok": 8, "tie_word_embeddings": False}  # fmt: skip
    count = count_config(olmoe)
    assert count.total == pytest.approx(6_919_161_856, rel=1e-4)
    assert count.language_active == pytest.approx(1_282_017_280, rel=1e-3)


def test_gpt_oss_active_without_the_input_embedding_is_openais_figure():
    count = count_config(config("openai/gpt-oss-120b"))
    assert count.total / 1e9 == pytest.approx(116.83, rel=0.001)
    assert (count.language_active - count.embedding_input) / 1e9 == pytest.approx(5.13, rel=0.01)


def test_llama_4_maverick_alternates_dense_and_moe_layers():
    maverick = config("meta-llama/Llama-4-Maverick-17B-128E-Instruct")
    every_layer = json.loads(json.dumps(maverick))
    every_layer["text_config"]["interleave_moe_layer_step"] = 1
    assert count_config(every_layer).total > 1.9 * count_config(maverick).total
    # 17B active both ways: only the routers of the extra MoE layers differ
    assert count_config(maverick).language_active == pytest.approx(count_config(every_layer).language_active, rel=2e-3)


def test_safetensors_summary_is_refused_when_weights_are_packed():
    assert safetensors_total({"safetensors": {"parameters": {"BF16": 10}, "total": 10}}) == (10, None)
    assert safetensors_total(info("deepseek-ai/DeepSeek-V3")) == (684_531_386_000, None)  # FP8: one weight each
    total, why = safetensors_total(info("hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"))
    assert total is None and "I32" in why
    assert safetensors_total(info("openai/gpt-oss-120b"))[0] is None  # MXFP4 packed in U8
    assert safetensors_total({"id": "x"}) == (None, "no safetensors summary")


# -- the Hub over HTTP ------------------------------------------------------------------------------------
#: published (total, active) in billions and the tolerance their rounding allows (3% for whole numbers such as
#: "17B active"); sources in fixtures/hub/README.md
PUBLISHED = {
    "meta-llama/Llama-3.1-8B-Instruct": (8.03, 8.03, 0.001),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": (46.7, 12.9, 0.01),
    "deepseek-ai/DeepSeek-V3": (671, 37, 0.03),
    "Qwen/Qwen3-30B-A3B": (30.5, 3.3, 0.03),
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": (109, 17, 0.03),
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct": (400, 17, 0.03),
    "openai/gpt-oss-120b": (116.83, 5.71, 0.001),  # OpenAI's 5.13B active leaves the input embedding out
    "nvidia/NVIDIA-Nemotron-Nano-9B-v2": (8.89, 8.89, 0.01),
    "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": (31.6, 3.6, 0.01),  # NVIDIA: 3.6B active with embeddings
    "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16": (120.67, 12.77, 0.001),
    "Qwen/Qwen3-Coder-Next": (79.67, 3.87, 0.001),
    "ai21labs/AI21-Jamba-Mini-1.6": (52, 12, 0.03),
    "ibm-granite/granite-4.0-h-micro": (3.19, 3.19, 0.01),
    "tiiuae/Falcon-H1-1.5B-Instruct": (1.55, 1.55, 0.01),
    "zai-org/GLM-4.5": (355, 32, 0.06),  # Z.ai's 32B is rounded; with both embeddings we count 33.6
    "Qwen/Qwen2.5-VL-7B-Instruct": (8.29, 7.62, 0.001),  # active: the language model without the ViT
    "google/gemma-3n-E4B-it": (7.85, 6.87, 0.01),
}


@pytest.mark.parametrize("repo", sorted(PUBLISHED))
def test_hub_counts_match_the_published_figures(hub_server, repo):
    total, active, tolerance = PUBLISHED[repo]
    params = fetch(hub_server, repo)
    assert params.params_total_b == pytest.approx(total, rel=tolerance), params
    assert params.params_active_b == pytest.approx(active, rel=tolerance), params
    assert not [note for note in params.notes if "differs from safetensors" in note], params.notes
    assert hub_server.paths_requested() == [f"/api/models/{repo}", f"/{repo}/resolve/main/config.json"]


@pytest.mark.parametrize(
    ("repo", "source", "architecture", "is_moe"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "hub safetensors", "generic", False),
        ("Qwen/Qwen3-30B-A3B", "computed from config", "generic", True),  # the fixture has no safetensors block
        ("hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "computed from config", "generic", False),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "hub safetensors", "llama4_text", True),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct", "computed from config", "llama4_text", True),
        ("openai/gpt-oss-120b", "computed from config", "gpt_oss", True),
        ("nvidia/NVIDIA-Nemotron-Nano-9B-v2", "hub safetensors", "nemotron_h", False),
        ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "hub safetensors", "nemotron_h", True),
        ("ibm-granite/granite-4.0-h-micro", "hub safetensors", "granitemoehybrid", False),
        ("ai21labs/AI21-Jamba-Mini-1.6", "hub safetensors", "jamba", True),
        ("tiiuae/Falcon-H1-1.5B-Instruct", "hub safetensors", "falcon_h1", False),
        ("Qwen/Qwen3-Coder-Next", "hub safetensors", "qwen3_next", True),
        ("google/gemma-3n-E4B-it", "hub safetensors", "gemma3n_text", False),
    ],
)
def test_source_and_counting_rule(hub_server, repo, source, architecture, is_moe):
    params = fetch(hub_server, repo)
    assert (params.params_source, params.architecture, params.is_moe) == (source, architecture, is_moe)


def test_fetch_dense_model_takes_total_license_and_date_from_the_model_api(hub_server):
    params = fetch(hub_server, "meta-llama/Llama-3.1-8B-Instruct")
    assert (params.params_total_b, params.params_active_b, params.params_vision_b) == (8.03, 8.03, 0.0)
    assert (params.license, params.created, params.gated, params.notes) == ("llama3.1", "2024-07-18", True, ())


def test_packed_quantized_repo_refuses_the_summary_and_computes(hub_server):
    """AWQ packs eight 4-bit weights per I32: the Hub's 1.98B would undercount the 8.03B model fourfold."""
    params = fetch(hub_server, "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4")
    assert (params.params_total_b, params.params_active_b) == (8.03, 8.03)
    assert "packed" in params.notes[0]


def test_vision_towers_are_counted_apart(hub_server):
    scout = fetch(hub_server, "meta-llama/Llama-4-Scout-17B-16E-Instruct")
    assert scout.params_vision_b == pytest.approx(0.87, abs=0.05)
    vl = fetch(hub_server, "Qwen/Qwen2.5-VL-7B-Instruct")
    assert vl.params_vision_b == pytest.approx(0.67, abs=0.03)  # the 675M ViT + merger
    assert vl.params_total_b - vl.params_vision_b == pytest.approx(7.62, abs=0.02)  # Qwen2.5-7B's language model
    assert fetch(hub_server, "deepseek-ai/DeepSeek-V3").params_vision_b == 0.0


def test_gemma_3n_effective_size_and_towers(hub_server):
    """E4B: 7.85B stored; its towers (~1B) have no formula, so they are the remainder; 4B effective."""
    params = fetch(hub_server, "google/gemma-3n-E4B-it")
    assert params.params_effective_b == pytest.approx(4.0, rel=0.03)
    assert params.params_vision_b == pytest.approx(0.98, abs=0.05)
    assert any("towers" in note for note in params.notes)


def test_mtp_heads_leave_the_total(hub_server):
    """DeepSeek-V3 stores a 14B MTP module (with its own embedding and head copies); Nemotron 3 Super 2.9B."""
    deepseek = fetch(hub_server, "deepseek-ai/DeepSeek-V3")
    assert deepseek.params_total_b == pytest.approx(671, rel=0.005)
    assert "MTP heads (13.46B) left out of the total" in deepseek.notes
    assert (
        "MTP heads (2.94B) left out of the total"
        in fetch(hub_server, "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16").notes
    )


def test_gated_config_keeps_the_safetensors_total_without_an_active_split(hub_server):
    repo = "meta-llama/Llama-4-Scout-17B-16E-Instruct"
    hub_server.add(f"/{repo}/resolve/main/config.json", "Access to this model is restricted.", status=401)
    params = fetch(hub_server, repo)
    assert (params.params_total_b, params.params_active_b, params.is_moe, params.gated) == (108.6, None, None, True)
    assert any("401" in note for note in params.notes)


def test_a_config_no_rule_knows_is_a_note(hub_server):
    hub_server.add("/lab/odd-9b/resolve/main/config.json", json.dumps({"model_type": "odd", "d_model": 4096}))
    params = fetch(hub_server, "lab/odd-9b")
    assert params.params_total_b is None
    assert any(note.startswith("config not counted: KeyError") for note in params.notes)


def test_missing_repo_is_a_note_not_an_error(hub_server):
    params = fetch(hub_server, "nobody/nothing-7b")
    assert params.params_total_b is None and params.params_source is None
    assert sum("404" in note for note in params.notes) == 2


#: repos the offline catalog cannot size on the newest shared day; configs and totals from memory (README)
FROM_MEMORY = {
    "MiniMaxAI/MiniMax-M2.1": (230, 10, 0.12),  # published 230B / 10B (we count 228.8 / 11.1)
    "zai-org/GLM-4.7": (355, 32, 0.06),
    "zai-org/GLM-4.5V": (108, 12, 0.08),  # GLM-4.5-Air (106B / 12B) + a vision tower
    "arcee-ai/Trinity-Mini": (26, 3, 0.16),  # published 26B / 3B (we count 26.1 / 3.45)
    "EssentialAI/rnj-1-instruct": (8.3, 8.3, 0.01),
    "moonshotai/Kimi-VL-A3B-Thinking": (16.4, 2.8, 0.06),  # published 16B / 2.8B LM (+0.4B ViT)
}


@pytest.mark.parametrize("repo", sorted(FROM_MEMORY))
def test_repos_without_a_size_in_their_name_are_sized_by_the_hub(hub_server, repo):
    total, active, tolerance = FROM_MEMORY[repo]
    params = fetch(hub_server, repo)
    assert params.params_source == "hub safetensors" and params.is_moe is (total != active)
    assert params.params_total_b == pytest.approx(total, rel=tolerance)
    assert params.params_active_b == pytest.approx(active, rel=tolerance)
