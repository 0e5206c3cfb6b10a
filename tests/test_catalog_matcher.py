"""The matcher: normalization rules, variants, hints, and the curated files it is built from."""

from __future__ import annotations

import math

import pytest
import yaml

from llmprices.catalog.catalog import load_curated
from llmprices.catalog.matcher import ALIASES_YAML, Matcher, ModelMatch, resolve

LLAMA_70B = "meta-llama/llama-3.1-70b-instruct"


@pytest.mark.parametrize(
    ("provider_model_id", "provider", "model"),
    [
        # case, separators and Fireworks' `p` for the version dot
        ("META-LLAMA/LLAMA-3.1-70B-INSTRUCT", None, LLAMA_70B),
        ("accounts/fireworks/models/llama-v3p1-70b-instruct", "fireworks", LLAMA_70B),
        ("Meta-Llama-3_1-70B-Instruct", "ovhcloud", LLAMA_70B),
        ("@cf/meta/llama-3.1-70b-instruct", "cloudflare", LLAMA_70B),
        # Bedrock: vendor prefix, cross-region prefix, API version, URL-encoded colon
        ("us.meta.llama3-1-70b-instruct-v1:0", "aws", LLAMA_70B),
        ("meta.llama3-8b-instruct-v1%3A0", "aws", "meta-llama/llama-3-8b-instruct"),
        ("mistral.mistral-7b-instruct-v0:2", "aws", "mistralai/mistral-7b-instruct-v0.2"),
        ("regional.anthropic.claude-3-5-sonnet-20241022-v2:0", "aws", "anthropic/claude-3.5-sonnet"),
        # dates and `-latest`
        ("gpt-4o-2024-08-06", "openai", "openai/gpt-4o"),
        ("claude-3-5-sonnet@20240620", "google", "anthropic/claude-3.5-sonnet"),
        ("claude-3-haiku-latest", "anthropic", "anthropic/claude-3-haiku"),
        # the provider's own prefix, LiteLLM routing prefixes
        ("groq/llama-3.3-70b-versatile", "groq", "meta-llama/llama-3.3-70b-instruct"),
        ("deepinfra/meta-llama/Meta-Llama-3.1-70B-Instruct", None, LLAMA_70B),
        # Hub repos, renamed repos and version numbers that only differ by a separator
        ("Qwen/Qwen2.5-72B-Instruct", "together", "qwen/qwen-2.5-72b-instruct"),
        ("qwen2p5-vl-72b-instruct", "fireworks", "qwen/qwen2.5-vl-72b-instruct"),
        ("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", None, "nvidia/llama-3.1-nemotron-70b-instruct"),
        ("deepseek-ai/DeepSeek-V3-0324", None, "deepseek/deepseek-v3-0324"),
        ("deepseek/deepseek_v3", "novita", "deepseek/deepseek-v3"),
        # aliases.yaml
        ("llama3-70b-8192", "groq", "meta-llama/llama-3-70b-instruct"),
        ("meta-llama/Llama-3-70b-chat-hf", "together", "meta-llama/llama-3-70b-instruct"),
        ("gemini-pro", "google", "google/gemini-1.0-pro"),
    ],
)
def test_normalization_rules(provider_model_id, provider, model):
    assert resolve(provider_model_id, provider=provider).model == model


def test_sizes_next_to_versions_are_not_read_as_versions():
    assert resolve("Qwen/Qwen3-0.6B").model == "qwen/qwen3-0.6b"
    assert resolve("google/gemma-2-9b-it").model == "google/gemma-2-9b-it"
    assert resolve("gemma2-9b-it", provider="groq").model == "google/gemma-2-9b-it"
    assert resolve("Qwen/Qwen2-57B-Instruct").model is None  # `2-57b` is not `2.5-7b`


@pytest.mark.parametrize(
    ("provider_model_id", "model", "variant"),
    [
        ("meta-llama/llama-3.1-70b-instruct:free", LLAMA_70B, "free"),
        ("meta-llama/llama-3.1-70b-instruct:extended", LLAMA_70B, "extended"),
        ("together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", LLAMA_70B, "turbo"),
        ("meta-llama/Meta-Llama-3-70B-Instruct-Lite", "meta-llama/llama-3-70b-instruct", "lite"),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "meta-llama/llama-4-maverick-17b-128e-instruct", "fp8"),
        ("meta-llama/llama-3.1-8b-instruct-bf16", "meta-llama/llama-3.1-8b-instruct", "bf16"),
        ("llama-3.3-70b-specdec", "meta-llama/llama-3.3-70b-instruct", "specdec"),
        ("deepseek-r1-distill-llama-70b-fp8:free", "deepseek/deepseek-r1-distill-llama-70b", "free+fp8"),
        ("openai/gpt-4o:extended", "openai/gpt-4o", "extended"),
    ],
)
def test_variants_keep_the_canonical_model(provider_model_id, model, variant):
    match = resolve(provider_model_id)
    assert (match.model, match.model_variant) == (model, variant)


def test_products_named_like_variants_are_not_variants():
    """`-turbo` is a build of an open model but the name of `gpt-4-turbo`; unknown `-lite` names stay whole."""
    assert resolve("gpt-4-turbo") == ModelMatch("openai/gpt-4-turbo", None, "gpt-4-turbo")
    assert resolve("gpt-3.5-turbo-0125").model == "openai/gpt-3.5-turbo"
    assert resolve("gemini-2.5-flash-lite", provider="google") == ModelMatch(None, None, "gemini-2.5-flash-lite")


def test_unmatched_ids_get_a_normalized_stand_in():
    match = resolve("together_ai/SomeLab/Brand-New-Model-3_5-7B:free", provider="together")
    assert match == ModelMatch(None, "free", "somelab/brand-new-model-3.5-7b")


def test_hint_wins_over_the_id():
    """OpenRouter's floating `devstral-small` id pointed at the 2505 release while the hint said so."""
    assert resolve("mistralai/devstral-small").model == "mistralai/devstral-small-2507"
    hinted = resolve("mistralai/devstral-small:free", hint="mistralai/Devstral-Small-2505")
    assert (hinted.model, hinted.model_variant) == ("mistralai/devstral-small-2505", "free")
    # an unknown hint does not discard what the id says
    assert resolve("qwen/qwen3-32b", hint="someone/unknown-repo").model == "qwen/qwen3-32b"


def test_missing_hints_from_pandas_are_ignored():
    assert resolve("qwen/qwen3-32b", hint=math.nan).model == "qwen/qwen3-32b"
    assert resolve("qwen/qwen3-32b", hint="").model == "qwen/qwen3-32b"


def test_answers_are_cached_per_input():
    matcher = Matcher({"a/model-7b": []})
    first = matcher.resolve("A/Model-7B:free")
    assert matcher.resolve("A/Model-7B:free") is first


def test_bare_names_resolve_only_when_unambiguous():
    matcher = Matcher({"lab-one/chat-7b": [], "lab-two/chat-7b": [], "lab-one/solo-3b": []})
    assert matcher.resolve("lab-two/chat-7b").model == "lab-two/chat-7b"
    assert matcher.resolve("chat-7b").model is None
    assert matcher.resolve("accounts/fireworks/models/solo-3b").model == "lab-one/solo-3b"


def test_conflicting_spellings_are_rejected():
    with pytest.raises(ValueError, match="reads the same"):
        Matcher({"lab/model-3.1-8b": [], "lab/other": ["lab/Model-3_1-8B"]})


def test_aliases_are_extended_without_code(tmp_path):
    models = tmp_path / "models.csv"
    models.write_text("model,hf_repo\nlab/model-8b,Lab/Model-8B-Instruct\n")
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("aliases:\n  provider-name-8b-chat: lab/model-8b\n")
    matcher = Matcher.from_files(models, aliases)
    assert matcher.resolve("Provider_Name-8B-Chat").model == "lab/model-8b"
    assert matcher.resolve("lab/Model-8B-Instruct-Turbo").model_variant == "turbo"
    aliases.write_text("aliases:\n  typo: lab/no-such-model\n")
    with pytest.raises(ValueError, match="not in models.csv"):
        Matcher.from_files(models, aliases)


def test_every_curated_model_and_repo_resolves_to_itself():
    catalog = load_curated()
    for model, repo in zip(catalog["model"], catalog["hf_repo"], strict=True):
        match = resolve(model)
        assert (match.model, match.model_variant) == (model, None)
        if isinstance(repo, str):
            assert resolve(repo).model == model, repo


def test_every_alias_resolves_to_its_target():
    aliases = yaml.safe_load(ALIASES_YAML.read_text())["aliases"]
    assert aliases
    for alias, model in aliases.items():
        assert resolve(alias).model == model, alias


def test_an_unknown_model_is_named_by_the_repo_its_source_states():
    """Sources agree on the repo, not on their ids: an uncurated model gets one identity across them."""
    openrouter = resolve("z-ai/glm-5:free", provider="openrouter", hint="zai-org/GLM-5")
    router = resolve("zai-org/GLM-5", provider="huggingface", hint="zai-org/GLM-5")
    assert (openrouter.model, openrouter.normalized, openrouter.model_variant) == (None, "zai-org/glm-5", "free")
    assert (router.model, router.normalized) == (None, "zai-org/glm-5")
    assert resolve("z-ai/glm-5", provider="openrouter").normalized == "z-ai/glm-5"  # no repo named: the id
