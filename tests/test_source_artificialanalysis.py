"""artificialanalysis: needs an API key, sent as a header and kept out of everything stored."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from llmprices.http import HttpClient
from llmprices.sources.artificialanalysis import API_KEY_ENV, fetch, parse
from llmprices.sources.base import SourceNotConfigured
from pipeline.resources import default_resources

FIXTURE = Path(__file__).parent / "fixtures" / "sources" / "artificialanalysis_models.json"
DAY = date(2025, 1, 15)
KEY = "aa-test-key-0123456789abcdef"


@pytest.fixture
def http():
    client = HttpClient(backoff_factor_s=0, max_retries=1, connect_timeout_s=2, read_timeout_s=10)
    yield client
    client.close()


def test_not_configured_without_a_key(http_server, http):
    with pytest.raises(SourceNotConfigured, match=API_KEY_ENV):
        fetch(http, api_base=f"{http_server.base_url}/api/v2", api_key="")
    assert http_server.requests == []


def test_the_key_is_sent_as_a_header_and_stored_nowhere(http_server, http, caplog):
    http_server.add_file("/api/v2/data/llms/models", FIXTURE)
    with caplog.at_level(logging.DEBUG):
        payloads = fetch(http, api_base=f"{http_server.base_url}/api/v2", api_key=KEY)
    [(path, headers)] = http_server.requests
    assert path == "/api/v2/data/llms/models"
    assert {k.lower(): v for k, v in headers.items()}["x-api-key"] == KEY
    [payload] = payloads
    assert (payload.name, payload.url) == ("models.json", f"{http_server.base_url}/api/v2/data/llms/models")
    for stored in (payload.name, payload.url, payload.body.decode(), caplog.text):
        assert KEY not in stored


def test_the_key_comes_from_the_environment_and_is_never_shown(monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, KEY)
    source = default_resources()["artificialanalysis_source"]
    assert source.api_key.env_var_name == API_KEY_ENV  # read when a run starts, hidden in the UI
    assert KEY not in repr(source)
    monkeypatch.delenv(API_KEY_ENV)
    assert default_resources()["artificialanalysis_source"].api_key == ""


def test_parse(http_server, http):
    http_server.add_file("/api/v2/data/llms/models", FIXTURE)
    [parsed] = parse(fetch(http, api_base=f"{http_server.base_url}/api/v2", api_key=KEY), DAY)
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
