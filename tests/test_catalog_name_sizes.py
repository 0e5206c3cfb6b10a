"""The name parser: what ids and repo names say about size, and what they must not be read as."""

from __future__ import annotations

import pytest

from llmprices.catalog.name_sizes import NameSize, agrees, size_from_names, sizes_from_name, within_name_rounding


def read(name: str) -> tuple:
    size = sizes_from_name(name)
    return None if size is None else (size.total_b, size.active_b)


@pytest.mark.parametrize(
    ("name", "total", "active"),
    [
        ("qwen/qwen3.5-9b", 9.0, None),
        ("qwen/qwen3.5-35b-a3b", 35.0, 3.0),
        ("Qwen/Qwen3-30B-A3B-Instruct-2507", 30.0, 3.0),
        ("nvidia/nemotron-3-super-120b-a12b", 120.0, 12.0),
        ("liquid/lfm-2-24b-a2b", 24.0, 2.0),
        ("LiquidAI/LFM2-1.2B", 1.2, None),
        ("allenai/olmo-3.1-32b-think:free", 32.0, None),
        ("EleutherAI/pythia-70m", 0.07, None),
        ("HuggingFaceTB/SmolLM2-135M-Instruct", 0.135, None),
        ("inclusionai/ling-1t", 1000.0, None),
        ("some/model-1.5t", 1500.0, None),
        ("qwen/qwen3-0.6b-04-28:free", 0.6, None),
        ("deepseek/deepseek-r1-distill-qwen-1.5b", 1.5, None),
        ("meta-llama/llama-3.1-8b-instruct", 8.0, None),
        ("nvidia/Llama-3_1-Nemotron-Ultra-253B-v1", 253.0, None),
        ("mistralai/mistral-small-3.1-24b-instruct-2503", 24.0, None),
        ("ibm-granite/granite-3.0-3b-a800m-instruct", 3.0, 0.8),
        ("Qwen/Qwen2.5-7B-Instruct-1M", 7.0, None),  # `1M` is context here, and a `b` size wins anyway
        ("unsloth/Llama-3-8B-Instruct-4bit", 8.0, None),
        ("openai/gpt-oss-120b:exacto", 120.0, None),
    ],
)
def test_sizes(name, total, active):
    assert read(name) == (total, active)


@pytest.mark.parametrize(
    "name",
    [
        "meta-llama/llama-3.1",
        "mistralai/devstral-2512",
        "qwen/qwen2.5",
        "some/model-128k",
        "mistralai/mistral-7b-instruct-v0.1".replace("7b-", ""),
        "openai/gpt-4o",
        "openai/gpt-4o:extended",
        "microsoft/phi-3-mini-4k-instruct",
        "microsoft/phi-3-medium-128k-instruct",
        "openai/gpt-4-32k-0314",
        "openai/gpt-3.5-turbo-16k",
        "moonshotai/kimi-k2.5",
        "minimax/minimax-m2.5",
        "z-ai/glm-5",
        "openai/o3-mini",
        "deepseek/deepseek-r1:free",
        "perplexity/llama-3.1-sonar-small-128k-online",
        "some/model-1m",  # context, not one million parameters
        "TheBloke/model-w4a16",
        "x-ai/grok-code-fast-1",
        "anthropic/claude-3-5-haiku-20241022:beta",
        "qwen/qwen-plus-2025-07-28:thinking",
        "google/gemini-2.0-flash-001",
    ],
)
def test_versions_dates_and_context_are_not_sizes(name):
    assert sizes_from_name(name) is None


def test_mixtral_names_are_an_estimate_below_their_upper_bound():
    size = sizes_from_name("mistralai/mixtral-8x7b-instruct")
    assert size.estimated and size.is_moe and size.experts == 8
    assert size.upper_bound_b == 56.0
    assert size.total_b == pytest.approx(46.7, rel=0.05)  # curated 46.7 / 12.9
    assert size.active_b == pytest.approx(12.9, rel=0.05)
    big = sizes_from_name("microsoft/WizardLM-2-8x22B")
    assert big.upper_bound_b == 176.0
    assert big.total_b == pytest.approx(140.6, rel=0.05) and big.active_b == pytest.approx(39.2, rel=0.05)


def test_gemma_3n_effective_size():
    size = sizes_from_name("google/gemma-3n-E4B-it")
    assert (size.total_b, size.active_b, size.effective, size.token) == (4.0, 4.0, True, "e4b")
    assert sizes_from_name("google/gemma-3n-e2b-it:free").total_b == 2.0


def test_llama_4_names_the_active_size_and_the_expert_count():
    size = sizes_from_name("meta-llama/Llama-4-Scout-17B-16E-Instruct")
    assert (size.total_b, size.active_b, size.experts, size.is_moe) == (None, 17.0, 16, True)


def test_active_only_and_moe_only_names():
    assert read("moonshotai/kimi-vl-a3b-thinking") == (None, 3.0)
    assert read("tencent/hunyuan-a13b-instruct") == (None, 13.0)
    size = sizes_from_name("deepcogito/cogito-v2-preview-llama-109B-MoE")
    assert (size.total_b, size.active_b, size.is_moe) == (109.0, None, True)


def test_plain_size_does_not_claim_dense():
    assert sizes_from_name("openai/gpt-oss-120b").is_moe is None


def test_token_is_reported():
    assert sizes_from_name("nvidia/nemotron-3-super-120b-a12b").token == "120b-a12b"
    assert sizes_from_name("Qwen/Qwen3-30B-A3B").total_text == "30"


def test_two_sizes_are_flagged_ambiguous():
    size = sizes_from_name("allenai/OLMoE-1B-7B-0924")
    assert size.total_b == 1.0 and size.ambiguous


@pytest.mark.parametrize(
    ("stated", "text", "actual", "ok"),
    [
        (7.0, "7", 7.62, True),  # Qwen2-7B: names truncate
        (24.0, "24", 23.6, True),  # Mistral-Small: names round
        (90.0, "90", 88.6, True),  # within 5%
        (7.0, "7", 8.54, False),  # Gemma-7B is 8.5B
        (1.5, "1.5", 1.78, False),  # R1-Distill-Qwen-1.5B unties its embeddings
        (1.5, "1.5", 1.54, True),
        (0.07, "70", 0.0703, True),
        (1000.0, "1", 1040.0, True),
    ],
)
def test_rounding_a_name_carries(stated, text, actual, ok):
    assert within_name_rounding(stated, text, actual) is ok


def test_agrees_per_field():
    size = sizes_from_name("qwen/qwen3-30b-a3b")
    assert agrees(size, 30.5, 3.3) == {"total": True, "active": True}
    assert agrees(size, None, 3.3) == {"total": None, "active": True}
    assert agrees(NameSize(8.0, None, total_text="8"), 8.03, 8.03) == {"total": True, "active": None}


def test_repo_name_before_listing_id_and_a_total_before_an_active_only_reading():
    """OpenRouter's `lfm-2.2-6b` misplaces the dot of its repo LiquidAI/LFM2-2.6B: the repo is read first."""
    assert size_from_names("LiquidAI/LFM2-2.6B", "liquid/lfm-2.2-6b").total_b == 2.6
    assert size_from_names(None, "liquid/lfm-2.2-6b").total_b == 6.0
    assert size_from_names("moonshotai/Kimi-VL-A3B-Thinking", "moonshotai/kimi-vl-a3b-thinking-16b").total_b == 16.0
    assert size_from_names("moonshotai/Kimi-VL-A3B-Thinking").active_b == 3.0
    assert size_from_names("z-ai/glm-5", None) is None
    assert size_from_names("together-ai-21.1b-41b") is None  # a price tier, not a model: two sizes
