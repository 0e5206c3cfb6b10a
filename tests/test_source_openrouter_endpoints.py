"""openrouter_endpoints over real HTTP: /models, then each open-weight model's endpoints in parallel."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources import openrouter_endpoints
from llmprices.sources.base import PayloadError
from llmprices.sources.openrouter_endpoints import fetch, parse

FIXTURES = Path(__file__).parent / "fixtures" / "sources" / "openrouter_endpoints"
DAY = date(2026, 8, 25)
DYNAMIC = "pricing.prompt=-1 marks a dynamic/variable price, not a price"


@pytest.fixture
def http():
    client = HttpClient(backoff_factor_s=0, max_retries=2, connect_timeout_s=2, read_timeout_s=10, pool_size=4)
    yield client
    client.close()


@pytest.fixture
def api(http_server, shared_data: Path):
    """The fixture /models (3 open-weight models, 2 others) with kimi-k3's real endpoints sample,
    a llama fixture, and qwen's endpoints failing with HTTP 500 every time."""
    http_server.add_file("/api/v1/models", FIXTURES / "models.json")
    http_server.add_file(
        "/api/v1/models/moonshotai/kimi-k3/endpoints", shared_data / "samples" / "openrouter_endpoints_kimi-k3.json"
    )
    http_server.add_file(
        "/api/v1/models/meta-llama/llama-3.3-70b-instruct/endpoints", FIXTURES / "llama-3.3-70b-instruct.json"
    )
    http_server.add("/api/v1/models/qwen/qwen3-32b/endpoints", '{"error": "upstream"}', status=500)
    return http_server


def _rows(parsed):
    return {(i.provider, i.variant): i for p in parsed for i in p.listings}


def test_fetches_open_weight_models_endpoints_and_keeps_going_past_a_failure(api, http):
    payloads = fetch(http, f"{api.base_url}/api/v1")

    assert [p.name for p in payloads] == [
        "models.json",
        "endpoints/moonshotai/kimi-k3.json",
        "endpoints/meta-llama/llama-3.3-70b-instruct.json",
        "fetch_errors.json",
    ]
    requested = api.paths_requested()
    assert "/api/v1/models/openai/gpt-4o/endpoints" not in requested  # no hugging_face_id: not open weights
    assert "/api/v1/models/openrouter/auto/endpoints" not in requested
    assert requested.count("/api/v1/models/qwen/qwen3-32b/endpoints") == 3  # the first try and 2 retries

    parsed = list(parse(payloads, DAY))
    assert [(len(p.listings), len(p.rejections)) for p in parsed] == [(0, 0), (4, 0), (5, 1), (0, 1)]
    [failure] = parsed[3].rejections
    assert failure.provider_model_id == "qwen/qwen3-32b"
    assert failure.failed_check == "fetch"
    url = f"{api.base_url}/api/v1/models/qwen/qwen3-32b/endpoints"
    expected = f"GET {url} answered HTTP 500: '{{\"error\": \"upstream\"}}' (after 3 attempts)"
    assert failure.reason == f"fetch failed: HttpError: {expected}"
    assert failure.record["url"] == url


def test_kimi_k3_sample_one_row_per_endpoint(api, http):
    payloads = fetch(http, f"{api.base_url}/api/v1")
    kimi = [p for p in parse(payloads, DAY) if p.payload.name == "endpoints/moonshotai/kimi-k3.json"][0]
    rows = {(i.provider, i.variant): i for i in kimi.listings}
    assert sorted(rows) == [("alibaba", ""), ("fireworks", ""), ("fireworks", "fast"), ("morph", "fast")]
    # Fireworks lists the model twice (tags `fireworks` and `fireworks/fast`): two rows, two prices
    fireworks, fast = rows["fireworks", ""], rows["fireworks", "fast"]
    assert (fireworks.input_usd_per_mtok, fireworks.output_usd_per_mtok, fireworks.cache_read_usd_per_mtok) == (
        3.0,
        15.0,
        0.3,
    )
    assert (fast.input_usd_per_mtok, fast.output_usd_per_mtok) == (4.5, 22.5)
    assert (fireworks.latency_ms, fireworks.throughput_tps, fireworks.uptime_pct) == (2687.0, 35.0, 99.82397465234993)
    assert (fast.latency_ms, fast.throughput_tps) == (814.5, 86.0)
    assert fireworks.quantization is None  # "unknown"
    morph = rows["morph", "fast"]
    assert (morph.quantization, morph.input_usd_per_mtok, morph.output_usd_per_mtok) == ("fp4", 6.0, 22.5)
    alibaba = rows["alibaba", ""]
    assert (alibaba.input_usd_per_mtok, alibaba.output_usd_per_mtok, alibaba.uptime_pct) == (
        3.45,
        17.25,
        87.32943469785575,
    )
    for item in kimi.listings:
        assert item.provider_model_id == "moonshotai/kimi-k3"
        assert item.model_hint == "moonshotai/Kimi-K3"  # the model's hugging_face_id from /models
        assert item.context_length == 1048576
        assert item.is_free is False


def test_discount_quantization_and_collisions(api, http):
    payloads = fetch(http, f"{api.base_url}/api/v1")
    llama = [p for p in parse(payloads, DAY) if p.payload.name.endswith("llama-3.3-70b-instruct.json")][0]
    rows = {(i.provider, i.variant): i for i in llama.listings}
    assert sorted(rows) == [
        ("deepinfra", "fp8"),
        ("lambda", "bf16"),
        ("lambda", "fp8"),
        ("novita", ""),
        ("together", ""),
    ]
    # Together: 0.88 per million with a 20% discount -> 0.704 exactly
    assert (rows["together", ""].input_usd_per_mtok, rows["together", ""].output_usd_per_mtok) == (0.704, 0.704)
    assert rows["together", ""].quantization == "fp8"
    # `deepinfra/fp8`: the tag's suffix is the variant
    deepinfra = rows["deepinfra", "fp8"]
    assert (deepinfra.input_usd_per_mtok, deepinfra.output_usd_per_mtok, deepinfra.latency_ms) == (0.23, 0.4, 412.0)
    # Lambda twice with the same tag: the quantization tells them apart
    assert (rows["lambda", "bf16"].input_usd_per_mtok, rows["lambda", "bf16"].output_usd_per_mtok) == (0.12, 0.3)
    assert (rows["lambda", "fp8"].input_usd_per_mtok, rows["lambda", "fp8"].output_usd_per_mtok) == (0.1, 0.25)
    assert (rows["lambda", "fp8"].latency_ms, rows["lambda", "fp8"].uptime_pct) == (None, None)
    # latency/throughput given as plain numbers; quantization "unknown" -> None; unknown fields ignored
    novita = rows["novita", ""]
    assert (novita.latency_ms, novita.throughput_tps, novita.quantization) == (450.0, 60.5, None)
    assert {i.model_hint for i in llama.listings} == {"meta-llama/Llama-3.3-70B-Instruct"}
    [venice] = llama.rejections
    assert (venice.provider, venice.reason) == ("venice", DYNAMIC)


def test_extra_models_are_fetched_too(api, http):
    api.add("/api/v1/models/openai/gpt-4o/endpoints", json.dumps({"data": {"id": "openai/gpt-4o", "endpoints": []}}))
    names = [p.name for p in fetch(http, f"{api.base_url}/api/v1", extra_models=["openai/gpt-4o"])]
    assert "endpoints/openai/gpt-4o.json" in names
    assert "/api/v1/models/openai/gpt-4o/endpoints" in api.paths_requested()


def test_models_payload_yields_nothing_and_bad_payloads_raise():
    models = RawPayload("models.json", "x", 200, None, (FIXTURES / "models.json").read_bytes())
    [parsed] = parse([models], DAY)
    assert (parsed.listings, parsed.rejections) == ([], [])
    with pytest.raises(PayloadError, match="not JSON"):
        list(parse([RawPayload("endpoints/a/b.json", "x", 200, None, b"<html>")], DAY))
    with pytest.raises(PayloadError, match="no `data.endpoints` list"):
        list(parse([RawPayload("endpoints/a/b.json", "x", 200, None, b'{"data": {"id": "a/b"}}')], DAY))


def test_an_endpoints_payload_parsed_alone_has_no_hint_but_the_same_rows(shared_data: Path):
    body = (shared_data / "samples" / "openrouter_endpoints_kimi-k3.json").read_bytes()
    [parsed] = parse([RawPayload("endpoints/moonshotai/kimi-k3.json", "x", 200, None, body)], DAY)
    assert len(parsed.listings) == 4
    assert {i.model_hint for i in parsed.listings} == {None}


def test_source_spec():
    spec = openrouter_endpoints.SOURCE
    assert (spec.name, spec.live) == ("openrouter_endpoints", True)
