"""artificialanalysis: needs an API key, sent as a header and kept out of everything stored."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from assets.sources.artificialanalysis import API_KEY_ENV, ArtificialAnalysisSource, parse
from assets.sources.base import SourceNotConfigured
from pipeline.http import HttpClient

FIXTURE = Path(__file__).parent / "fixtures" / "sources" / "artificialanalysis_models.json"
DAY = date(2025, 1, 15)
KEY = "aa-test-key-0123456789abcdef"


@pytest.fixture
def http():
    client = HttpClient(backoff_factor_s=0, max_retries=1, connect_timeout_s=2, read_timeout_s=10)
    yield client
    client.close()


def test_not_configured_without_a_key(monkeypatch, http_server, http):
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with pytest.raises(SourceNotConfigured, match=API_KEY_ENV):
        ArtificialAnalysisSource(api_base=f"{http_server.base_url}/api/v2").fetch(http, DAY)
    assert http_server.requests == []


def test_key_from_the_environment_is_sent_as_a_header_and_stored_nowhere(monkeypatch, http_server, http, caplog):
    monkeypatch.setenv(API_KEY_ENV, KEY)
    http_server.add_file("/api/v2/data/llms/models", FIXTURE)
    source = ArtificialAnalysisSource(api_base=f"{http_server.base_url}/api/v2")
    with caplog.at_level(logging.DEBUG):
        payloads = source.fetch(http, DAY)
    [(path, headers)] = http_server.requests
    assert path == "/api/v2/data/llms/models"
    assert {k.lower(): v for k, v in headers.items()}["x-api-key"] == KEY
    [payload] = payloads
    assert (payload.name, payload.url) == ("models.json", f"{http_server.base_url}/api/v2/data/llms/models")
    for stored in (payload.name, payload.url, payload.body.decode(), caplog.text, repr(source), str(source.api_key)):
        assert KEY not in stored


def test_explicit_key_and_parse(monkeypatch, http_server, http):
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    http_server.add_file("/api/v2/data/llms/models", FIXTURE)
    source = ArtificialAnalysisSource(api_base=f"{http_server.base_url}/api/v2", api_key=KEY)
    assert KEY not in repr(source)
    [parsed] = parse(source.fetch(http, DAY), DAY)
    rows = [
        (i.provider, i.provider_model_id, i.input_usd_per_mtok, i.output_usd_per_mtok, i.latency_ms, i.throughput_tps)
        for i in parsed.listings
    ]
    assert rows == [
        ("openai", "gpt-4o", 2.5, 10.0, 410.0, 143.27),
        ("meta", "llama-3-3-instruct-70b", 0.6, 0.76, 520.0, 88.6),
        ("deepseek", "deepseek-v3", 0.27, 1.1, None, None),  # 0 means "not measured"
    ]
    assert [(r.provider, r.provider_model_id, r.reason) for r in parsed.rejections] == [
        ("google-ai-studio", "gemma-3-27b", "both prices are 0: Artificial Analysis has no price for this model"),
        ("mistral", "mistral-large-2", "pricing.price_1m_input_tokens is missing"),
    ]
