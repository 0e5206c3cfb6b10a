"""The source registry, provider names, and the OpenRouter `/models` source on all 428 real days."""

from __future__ import annotations

import gzip
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from llmprices.http import HttpClient, HttpError
from llmprices.payloads import RawPayload
from llmprices.sources import ALL_SOURCES, SOURCES_BY_NAME, openrouter
from llmprices.sources.base import PayloadError
from llmprices.sources.providers import canonical_provider
from pipeline.resources import default_resources

DAY = date(2025, 12, 31)


@pytest.fixture
def http():
    client = HttpClient(backoff_factor_s=0, max_retries=3, connect_timeout_s=2, read_timeout_s=10)
    yield client
    client.close()


def payload(body: bytes | str, name: str = "models.json") -> RawPayload:
    return RawPayload(name, "file:///fixture", 200, None, body.encode() if isinstance(body, str) else body)


# --- registry ---------------------------------------------------------------------------------


def test_every_source_is_registered_once_with_a_resource_and_parser():
    names = [spec.name for spec in ALL_SOURCES]
    assert names == [
        "openrouter",
        "openrouter_endpoints",
        "huggingface",
        "litellm",
        "genai_prices",
        "artificialanalysis",
        "html",
        "csv",
    ]
    assert len(set(names)) == len(names) == len(SOURCES_BY_NAME)
    resources = default_resources()
    for spec in ALL_SOURCES:
        assert callable(resources[f"{spec.name}_source"].fetch)
        assert callable(spec.parse)
    assert [spec.name for spec in ALL_SOURCES if not spec.live] == ["csv"]


def test_resources_default_their_urls_from_the_environment(monkeypatch):
    from llmprices.sources import genai_prices

    monkeypatch.setenv("OPENROUTER_API_BASE", "http://127.0.0.1:9/or")
    monkeypatch.setenv("HF_ROUTER_API_BASE", "http://127.0.0.1:9/hf")
    monkeypatch.setenv("LITELLM_PRICES_URL", "http://127.0.0.1:9/litellm.json")
    monkeypatch.setenv("GENAI_PRICES_URL", "http://127.0.0.1:9/genai.json")
    resources = default_resources()
    variables = {
        key: resources[f"{key}_source"].model_dump()[field]
        for key, field in [("openrouter", "api_base"), ("openrouter_endpoints", "api_base"),
                           ("huggingface", "api_base"), ("litellm", "url"), ("genai_prices", "url")]
    }  # fmt: skip
    assert {key: value.env_var_name for key, value in variables.items()} == {
        "openrouter": "OPENROUTER_API_BASE",
        "openrouter_endpoints": "OPENROUTER_API_BASE",
        "huggingface": "HF_ROUTER_API_BASE",
        "litellm": "LITELLM_PRICES_URL",
        "genai_prices": "GENAI_PRICES_URL",
    }
    assert variables["litellm"].get_value() == "http://127.0.0.1:9/litellm.json"
    monkeypatch.delenv("GENAI_PRICES_URL")
    assert default_resources()["genai_prices_source"].url == genai_prices.DEFAULT_URL


# --- canonical provider names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        (["together_ai", "together", "Together", "togetherai", "Together AI"], "together"),
        (["bedrock", "bedrock_converse", "aws", "Amazon Bedrock", "amazon-bedrock"], "aws-bedrock"),
        (["fireworks_ai", "fireworks-ai", "Fireworks", "fireworks"], "fireworks"),
        (["deepinfra", "DeepInfra"], "deepinfra"),
        (
            ["vertex_ai-anthropic_models", "vertex_ai-language-models", "Google Vertex", "google-vertex"],
            "google-vertex",
        ),
        (["gemini", "Google AI Studio", "google-ai-studio"], "google-ai-studio"),
        (["azure", "azure_ai", "Azure"], "azure"),
        (["xai", "x-ai", "X AI"], "x-ai"),
        (["NovitaAI", "novita"], "novita"),
        (["Nebius AI Studio", "nebius"], "nebius"),
        (["lambda_ai", "Lambda"], "lambda"),
        (["OVHcloud AI Endpoints", "ovhcloud"], "ovhcloud"),
        (["dashscope", "Alibaba"], "alibaba"),
    ],
)
def test_canonical_provider_merges_every_spelling(spellings, canonical):
    assert {canonical_provider(s) for s in spellings} == {canonical}


@pytest.mark.parametrize(
    "name",
    [
        "groq",
        "cerebras",
        "sambanova",
        "hyperbolic",
        "mistral",
        "openai",
        "anthropic",
        "deepseek",
        "cohere",
        "perplexity",
    ]
    + ["parasail", "baseten", "nscale"],
)
def test_canonical_provider_keeps_known_slugs(name):
    assert canonical_provider(name) == name
    assert canonical_provider(name.upper()) == name


def test_unknown_providers_fall_back_to_a_slug():
    assert canonical_provider("  Some New Cloud, Inc. ") == "some-new-cloud-inc"
    assert canonical_provider("inference.net") == "inference-net"


# --- OpenRouter /models -----------------------------------------------------------------------


def _expected_openrouter(document: dict) -> tuple[dict[str, tuple[float, float, bool]], int]:
    """An independent reading of a /models document: {id: (input, output, free)} and the -1 count."""
    expected, dynamic = {}, 0
    for model in document["data"]:
        pricing = model["pricing"]
        if "-1" in (pricing["prompt"], pricing["completion"]):
            dynamic += 1
            continue
        prices = [float(Decimal(pricing[k]) * 10**6) for k in ("prompt", "completion")]
        free = model["id"].endswith(":free") or prices == [0, 0]
        expected[model["id"]] = (prices[0], prices[1], free)
    return expected, dynamic


def test_openrouter_parses_all_428_real_days_exactly(shared_data: Path):
    files = sorted((shared_data / "openrouter-models").glob("*.json.gz"))
    assert len(files) == 428
    total_listings = total_dynamic = 0
    for file in files:
        body = gzip.decompress(file.read_bytes())
        expected, dynamic = _expected_openrouter(json.loads(body))
        [parsed] = openrouter.parse([payload(body)], date.fromisoformat(file.name[:10]))
        got = {item.provider_model_id: item for item in parsed.listings}
        assert len(got) == len(parsed.listings) == len(expected), file.name
        for model_id, (input_price, output_price, free) in expected.items():
            item = got[model_id]
            assert (item.input_usd_per_mtok, item.output_usd_per_mtok, item.is_free) == (
                input_price,
                output_price,
                free,
            ), (file.name, model_id)
            assert item.provider == "openrouter"
        assert len(parsed.rejections) == dynamic, file.name
        assert all("-1 marks a dynamic/variable price" in r.reason for r in parsed.rejections)
        total_listings += len(expected)
        total_dynamic += dynamic
    assert (total_listings, total_dynamic) == (121764, 452)


def test_openrouter_exact_values_on_a_real_day(shared_data: Path):
    body = gzip.decompress((shared_data / "openrouter-models" / "2025-12-31.json.gz").read_bytes())
    [parsed] = openrouter.parse([payload(body)], DAY)
    assert (len(parsed.listings), len(parsed.rejections)) == (351, 2)
    by_id = {item.provider_model_id: item for item in parsed.listings}
    llama = by_id["meta-llama/llama-3.3-70b-instruct"]
    assert (llama.input_usd_per_mtok, llama.output_usd_per_mtok, llama.is_free) == (0.1, 0.32, False)
    assert (llama.model_hint, llama.context_length) == ("meta-llama/Llama-3.3-70B-Instruct", 131072)
    mini = by_id["openai/gpt-4o-mini"]
    assert (mini.input_usd_per_mtok, mini.output_usd_per_mtok, mini.cache_read_usd_per_mtok) == (0.15, 0.6, 0.075)
    assert mini.model_hint is None
    free = by_id["meta-llama/llama-3.3-70b-instruct:free"]
    assert (free.input_usd_per_mtok, free.output_usd_per_mtok, free.is_free) == (0.0, 0.0, True)
    assert sum(item.is_free for item in parsed.listings) == 35
    assert sorted((r.provider_model_id, r.reason) for r in parsed.rejections) == [
        ("openrouter/auto", "pricing.prompt=-1 marks a dynamic/variable price, not a price"),
        ("openrouter/bodybuilder", "pricing.prompt=-1 marks a dynamic/variable price, not a price"),
    ]


def test_openrouter_fetch_over_http_on_real_days(shared_data: Path, http_server, http):
    for day in ("2024-09-21", "2025-05-14", "2025-12-31"):
        file = shared_data / "openrouter-models" / f"{day}.json.gz"
        body = gzip.decompress(file.read_bytes())
        http_server.add("/api/v1/models", body)
        payloads = openrouter.fetch(http, f"{http_server.base_url}/api/v1")
        assert [(p.name, p.http_status, p.body) for p in payloads] == [("models.json", 200, body)]
        [parsed] = openrouter.parse(payloads, date.fromisoformat(day))
        expected, dynamic = _expected_openrouter(json.loads(body))
        assert (len(parsed.listings), len(parsed.rejections)) == (len(expected), dynamic)


def _model(model_id: str, prompt: str, completion: str) -> dict:
    return {
        "id": model_id,
        "hugging_face_id": "",
        "context_length": 8192,
        "pricing": {"prompt": prompt, "completion": completion},
    }


def test_openrouter_follows_links_next_over_http(http_server, http):
    page1 = {"data": [_model("a/one", "0.0000001", "0.0000002")], "links": {"next": "/api/v1/models?page=2"}}
    page2 = {"data": [_model("b/two:free", "0", "0"), _model("openrouter/auto", "-1", "-1")], "links": {"next": None}}
    http_server.add("/api/v1/models", json.dumps(page1))
    http_server.add("/api/v1/models?page=2", json.dumps(page2))
    payloads = openrouter.fetch(http, f"{http_server.base_url}/api/v1")
    assert [p.name for p in payloads] == ["models.json", "models-page2.json"]
    assert http_server.paths_requested() == ["/api/v1/models", "/api/v1/models?page=2"]
    parsed = list(openrouter.parse(payloads, DAY))
    listings = [item for p in parsed for item in p.listings]
    assert [(i.provider_model_id, i.input_usd_per_mtok, i.output_usd_per_mtok, i.is_free) for i in listings] == [
        ("a/one", 0.1, 0.2, False),
        ("b/two:free", 0.0, 0.0, True),
    ]
    assert [r.reason for p in parsed for r in p.rejections] == [
        "pricing.prompt=-1 marks a dynamic/variable price, not a price"
    ]


def test_openrouter_retries_a_503_twice_then_succeeds(http_server, http):
    body = json.dumps({"data": [_model("a/one", "0.000003", "0.000015")]})
    http_server.add("/api/v1/models", body, failures_left=2)
    payloads = openrouter.fetch(http, f"{http_server.base_url}/api/v1")
    assert http_server.paths_requested() == ["/api/v1/models"] * 3
    [parsed] = openrouter.parse(payloads, DAY)
    assert [(i.input_usd_per_mtok, i.output_usd_per_mtok) for i in parsed.listings] == [(3.0, 15.0)]


def test_openrouter_gives_up_after_the_retries(http_server):
    http_server.add("/api/v1/models", "{}", failures_left=10)
    client = HttpClient(backoff_factor_s=0, max_retries=1)
    with pytest.raises(HttpError, match="503"):
        openrouter.fetch(client, f"{http_server.base_url}/api/v1")


def test_openrouter_payload_level_problems_raise_payload_error():
    with pytest.raises(PayloadError, match="not JSON"):
        list(openrouter.parse([payload("<html>maintenance</html>")], DAY))
    with pytest.raises(PayloadError, match="no top-level `data` list"):
        list(openrouter.parse([payload('{"models": []}')], DAY))
