"""litellm: LiteLLM's price file over real HTTP, on the real sample."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import PayloadError
from llmprices.sources.litellm import fetch, parse

DAY = date(2026, 8, 25)


@pytest.fixture
def http():
    client = HttpClient(backoff_factor_s=0, max_retries=2, connect_timeout_s=2, read_timeout_s=10)
    yield client
    client.close()


def test_litellm_sample_over_http(http_server, http, shared_data: Path):
    url = http_server.add_file("/prices.json", shared_data / "samples" / "litellm_models.json")
    payloads = fetch(http, url)
    assert [p.name for p in payloads] == ["model_prices_and_context_window.json"]
    [parsed] = parse(payloads, DAY)
    rows = [
        (
            i.provider,
            i.provider_model_id,
            i.input_usd_per_mtok,
            i.output_usd_per_mtok,
            i.cache_read_usd_per_mtok,
            i.context_length,
        )
        for i in parsed.listings
    ]
    # sample_spec (documentation), the image model and fallback_generalizations are skipped silently
    assert rows == [
        ("google-ai-studio", "gemini/gemini-robotics-er-1.5-preview", 0.3, 2.5, 0.0, 1048576),
        ("aws-bedrock", "us.writer.palmyra-x4-v1:0", 2.5, 10.0, None, 128000),
        ("x-ai", "xai/grok-2", 2.0, 10.0, None, 131072),
        ("google-vertex", "vertex_ai/claude-3-5-haiku", 1.0, 5.0, None, 200000),
        ("alibaba", "dashscope/qwen-plus-2025-04-28", 0.4, 1.2, None, 129024),
        ("azure", "azure/eu/gpt-4o-2024-08-06", 2.75, 11.0, 1.375, 128000),
    ]
    assert [(r.provider_model_id, r.reason) for r in parsed.rejections] == [
        ("ollama/codegeex4", "ollama is a self-hosted runtime: its cost of 0 is not a price"),
    ]


def test_litellm_modes_missing_costs_and_context_fallback():
    document = {
        "sample_spec": {"mode": "chat", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
        "text-embedding-3-small": {"mode": "embedding", "litellm_provider": "openai", "input_cost_per_token": 2e-8},
        "gpt-3.5-turbo-instruct": {
            "mode": "completion",
            "litellm_provider": "text-completion-openai",
            "input_cost_per_token": 1.5e-6,
            "output_cost_per_token": 2e-6,
            "max_tokens": 4097,
        },
        "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": {
            "mode": "chat",
            "litellm_provider": "together_ai",
            "input_cost_per_token": 8.8e-7,
            "output_cost_per_token": 8.8e-7,
            "max_input_tokens": 131072,
        },
        "gemini/gemini-2.5-pro": {
            "mode": "chat",
            "litellm_provider": "gemini",
            "input_cost_per_token": 1.25e-6,
            "input_cost_per_token_above_200k_tokens": 2.5e-6,
            "output_cost_per_token": 1e-5,
        },
        "fireworks_ai/accounts/fireworks/models/new-model": {"mode": "chat", "litellm_provider": "fireworks_ai"},
        "mystery/model": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6},
        "weird/price": {
            "mode": "chat",
            "litellm_provider": "deepinfra",
            "input_cost_per_token": "n/a",
            "output_cost_per_token": 1e-6,
        },
    }
    [parsed] = parse([RawPayload("p.json", "x", 200, None, json.dumps(document).encode())], DAY)
    assert [
        (
            i.provider,
            i.provider_model_id,
            i.input_usd_per_mtok,
            i.output_usd_per_mtok,
            i.context_length,
            i.price_is_tiered,
        )
        for i in parsed.listings
    ] == [
        ("openai", "gpt-3.5-turbo-instruct", 1.5, 2.0, 4097, False),
        ("together", "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", 0.88, 0.88, 131072, False),
        ("google-ai-studio", "gemini/gemini-2.5-pro", 1.25, 10.0, None, True),
    ]
    assert [(r.provider, r.provider_model_id, r.reason) for r in parsed.rejections] == [
        ("fireworks", "fireworks_ai/accounts/fireworks/models/new-model", "input_cost_per_token is missing"),
        (None, "mystery/model", "entry has no `litellm_provider`"),
        ("deepinfra", "weird/price", "input_cost_per_token='n/a' is not a number"),
    ]


def test_litellm_payload_errors():
    with pytest.raises(PayloadError, match="not a JSON object"):
        list(parse([RawPayload("p.json", "x", 200, None, b"[]")], DAY))


def test_litellm_keeps_what_the_trust_rules_read(shared_data: Path):
    """A later statement dates Groq's retired 70B (the first capture did not); Vertex's Gemini 1.0 Pro has a
    per-character price beside its per-token one."""
    body = gzip.decompress((shared_data / "litellm-prices" / "2025-05-14.json.gz").read_bytes())
    [parsed] = parse([RawPayload("p.json", "x", 200, None, body)], date(2025, 5, 14))
    rows = {listing.provider_model_id: listing for listing in parsed.listings}
    assert rows["groq/llama-3.1-70b-versatile"].deprecation_date == date(2025, 1, 24)
    assert rows["groq/llama-3.3-70b-versatile"].deprecation_date is None
    gemini = rows["gemini-1.0-pro"]
    assert (gemini.input_usd_per_mtok, gemini.output_usd_per_mtok) == (0.5, 1.5)
    assert (gemini.input_usd_per_mchar, gemini.output_usd_per_mchar) == (0.125, 0.375)
    assert rows["gpt-4o"].input_usd_per_mchar is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2025-1-6", date(2025, 1, 6)), ("2026-02-27", date(2026, 2, 27)), ("soon", None), (20250106, None)],
)
def test_litellm_deprecation_dates_are_read_loosely(value, expected):
    entry = {"mode": "chat", "litellm_provider": "groq", "input_cost_per_token": 1e-7, "output_cost_per_token": 1e-7}
    document = json.dumps({"groq/m": entry | {"deprecation_date": value}}).encode()
    [parsed] = parse([RawPayload("p.json", "x", 200, None, document)], DAY)
    assert [listing.deprecation_date for listing in parsed.listings] == [expected]
