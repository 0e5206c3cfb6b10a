"""huggingface: the Hugging Face router's /v1/models over real HTTP, on the real sample."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import PayloadError
from llmprices.sources.huggingface import fetch, parse

DAY = date(2026, 8, 25)


@pytest.fixture
def http():
    client = HttpClient(backoff_factor_s=0, max_retries=2, connect_timeout_s=2, read_timeout_s=10)
    yield client
    client.close()


def test_huggingface_sample_over_http(http_server, http, shared_data: Path):
    http_server.add_file("/v1/models", shared_data / "samples" / "huggingface_models.json")
    payloads = fetch(http, f"{http_server.base_url}/v1")
    assert [(p.name, p.url) for p in payloads] == [("models.json", f"{http_server.base_url}/v1/models")]
    [parsed] = parse(payloads, DAY)
    rows = {(i.provider, i.provider_model_id): i for i in parsed.listings}
    assert sorted(rows) == [
        ("fireworks", "moonshotai/Kimi-K3"),
        ("fireworks", "zai-org/GLM-5.2"),
        ("together", "moonshotai/Kimi-K3"),
        ("together", "prism-ml/Ternary-Bonsai-27B-gguf"),
        ("together", "thinkingmachines/Inkling"),
        ("together", "zai-org/GLM-5.2"),
    ]
    kimi = rows["fireworks", "moonshotai/Kimi-K3"]  # spelled `fireworks-ai` by the router
    assert (kimi.input_usd_per_mtok, kimi.output_usd_per_mtok, kimi.context_length) == (3, 15, 1048576)
    assert (kimi.latency_ms, kimi.throughput_tps, kimi.is_free) == (2119, 48.33260928233352, False)
    assert kimi.model_hint == "moonshotai/Kimi-K3"
    glm = rows["together", "zai-org/GLM-5.2"]
    assert (glm.input_usd_per_mtok, glm.output_usd_per_mtok, glm.latency_ms) == (1.4, 4.4, 446)
    inkling = rows["together", "thinkingmachines/Inkling"]
    assert (inkling.input_usd_per_mtok, inkling.output_usd_per_mtok, inkling.context_length) == (1, 4.05, 524288)
    bonsai = rows["together", "prism-ml/Ternary-Bonsai-27B-gguf"]
    assert (bonsai.input_usd_per_mtok, bonsai.output_usd_per_mtok, bonsai.is_free) == (
        0,
        0,
        False,
    )  # as the router says
    [no_pricing] = parsed.rejections
    assert (no_pricing.provider, no_pricing.provider_model_id, no_pricing.reason) == (
        "fireworks",
        "thinkingmachines/Inkling",
        "no pricing",
    )


def _payload(document) -> RawPayload:
    return RawPayload("models.json", "x", 200, None, json.dumps(document).encode())


def test_huggingface_bad_records_are_rejected_with_reasons():
    document = {
        "object": "list",
        "data": [
            {
                "id": "a/b",
                "providers": [
                    {"provider": "novita", "status": "live", "pricing": {"input": 0.1}},
                    {"provider": "nebius", "status": "staging", "pricing": {"input": 0.1, "output": 0.2}},
                    {"provider": "groq", "pricing": {"input": "abc", "output": 0.2}},
                    {"status": "live"},
                    {
                        "provider": "sambanova",
                        "status": "live",
                        "pricing": {"input": 0.5, "output": 0.7},
                        "new_field": 1,
                    },
                ],
            },
            {"id": "c/d"},
            {"no_id": True},
        ],
    }
    [parsed] = parse([_payload(document)], DAY)
    assert [(i.provider, i.input_usd_per_mtok, i.output_usd_per_mtok) for i in parsed.listings] == [
        ("sambanova", 0.5, 0.7)
    ]
    assert [(r.provider, r.reason) for r in parsed.rejections] == [
        ("novita", "pricing.output is missing"),
        ("nebius", "provider status 'staging' is not live"),
        ("groq", "pricing.input='abc' is not a number"),
        (None, "provider entry has no `provider` name"),
        (None, "model has no `providers` list"),
        (None, "model record has no string `id`"),
    ]


def test_huggingface_payload_errors():
    with pytest.raises(PayloadError, match="no top-level `data` list"):
        list(parse([_payload([1, 2])], DAY))
    with pytest.raises(PayloadError, match="not JSON"):
        list(parse([RawPayload("models.json", "x", 200, None, b"")], DAY))
