"""html: provider pricing pages listed in a YAML file, fetched over real HTTP, parsed with BeautifulSoup."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import PayloadError, SourceNotConfigured
from llmprices.sources.html_pages import DEFAULT_PAGES_FILE, fetch, load_pages, parse, price_usd_per_mtok
from llmprices.sources.prices import BadPrice

FIXTURES = Path(__file__).parent / "fixtures" / "sources" / "html"
DAY = date(2025, 1, 15)

ACME_ROWS = [
    ("acme-inference-cloud", "meta-llama/Llama-3.3-70B-Instruct", 0.59, 0.79),  # the <code> API id
    ("acme-inference-cloud", "Llama 3.1 8B Instruct", 0.05, 0.08),  # <sup>1</sup> footnote dropped
    ("acme-inference-cloud", "Llama 3.1 405B Instruct", 3.5, 3.5),  # "3.50 USD"
    ("acme-inference-cloud", "Qwen2.5 72B Instruct", 0.2, 0.6),  # "$0.2 / 1M tokens"
    ("acme-inference-cloud", "Qwen3 235B A22B", 0.15, 0.6),  # "*" footnote marks dropped
    ("acme-inference-cloud", "QwQ 32B Preview", 0.0, 0.0),  # "Free"
    ("acme-inference-cloud", "DeepSeek V3", 1.25, 0.89),
]
ACME_REJECTIONS = [
    ("DeepSeek R1", "row 10: output cell '–' is not a price"),
    ("DeepSeek R1 Distill Llama 70B", "row 12: input cell 'Contact us' is not a price"),
]


@pytest.fixture
def http():
    client = HttpClient(backoff_factor_s=0, max_retries=1, connect_timeout_s=2, read_timeout_s=10)
    yield client
    client.close()


def _rows(parsed):
    return [(i.provider, i.provider_model_id, i.input_usd_per_mtok, i.output_usd_per_mtok) for i in parsed.listings]


def test_shipped_pages_file_is_empty_so_the_source_is_not_configured(monkeypatch, tmp_path, http):
    monkeypatch.chdir(tmp_path)  # the shipped file is found from anywhere
    assert DEFAULT_PAGES_FILE.endswith("llmprices/sources/html_pages.yaml")
    with pytest.raises(SourceNotConfigured, match="no pricing pages listed in .*html_pages.yaml"):
        fetch(http)


def test_pages_fetched_over_http_and_parsed(tmp_path, http_server, http):
    acme = http_server.add_file("/pricing", FIXTURES / "acme_pricing.html")
    legacy = http_server.add_file("/legacy/pricing", FIXTURES / "legacy_per_1k.html")
    gone = http_server.add("/gone", "not here", status=404)
    pages_file = tmp_path / "pages.yaml"
    pages_file.write_text(
        yaml.safe_dump(
            {
                "pages": [
                    {"provider": "Acme Inference Cloud", "url": acme},
                    {
                        "provider": "Oldcloud",
                        "url": legacy,
                        "table": "#legacy table",
                        "model_column": "model name",
                        "input_column": "prompt",
                        "output_column": "completion",
                        "unit": "per_1k_tokens",
                    },
                    {"provider": "Oldcloud", "url": gone},
                ]
            }
        )
    )
    payloads = fetch(http, str(pages_file))
    assert [p.name for p in payloads] == [
        "pages.json",
        "pages/acme-inference-cloud.html",
        "pages/oldcloud.html",
        "fetch_errors.json",
    ]
    assert payloads[1].body == (FIXTURES / "acme_pricing.html").read_bytes()
    assert [page["name"] for page in json.loads(payloads[0].body)["pages"]] == [
        "pages/acme-inference-cloud.html",
        "pages/oldcloud.html",
        "pages/oldcloud-2.html",
    ]

    pages_json, acme_page, legacy_page, errors = parse(payloads, DAY)
    assert (pages_json.listings, pages_json.rejections) == ([], [])
    assert _rows(acme_page) == ACME_ROWS
    assert [(r.provider_model_id, r.reason) for r in acme_page.rejections] == ACME_REJECTIONS
    # the selector skips the decoy table; per-1K prices become per-million; a unit in a cell wins
    assert _rows(legacy_page) == [
        ("oldcloud", "oldcloud-chat-large", 2.0, 6.0),
        ("oldcloud", "oldcloud-chat-small", 0.4, 0.8),
        ("oldcloud", "oldcloud-instruct", 1.5, 2.0),
    ]
    assert legacy_page.rejections == []
    [failure] = errors.rejections
    assert failure.reason == f"fetch failed: HttpError: GET {gone} answered HTTP 404: 'not here'"


def test_a_page_parsed_on_its_own_uses_default_hints():
    body = (FIXTURES / "acme_pricing.html").read_bytes()
    [parsed] = parse([RawPayload("pages/acme-inference-cloud.html", "x", 200, None, body)], DAY)
    assert _rows(parsed) == ACME_ROWS
    assert len(parsed.rejections) == 2


def test_a_page_whose_table_is_gone_is_a_payload_error():
    page = b"<html><body><h1>Pricing</h1><table><tr><th>Plan</th><th>Price</th></tr></table></body></html>"
    with pytest.raises(PayloadError, match=r"no table has the columns \['model', 'input', 'output'\]"):
        list(parse([RawPayload("pages/x.html", "x", 200, None, page)], DAY))
    pages = {"pages": [{"provider": "x", "url": "u", "table": "#prices", "name": "pages/x.html"}]}
    with pytest.raises(PayloadError, match="the selector '#prices' matches no table"):
        list(
            parse(
                [
                    RawPayload("pages.json", "x", 0, None, json.dumps(pages).encode()),
                    RawPayload("pages/x.html", "x", 200, None, page),
                ],
                DAY,
            )
        )


@pytest.mark.parametrize(
    ("cell", "unit", "expected"),
    [
        ("$0.20", "per_mtok", 0.2),
        ("0.20 USD", "per_mtok", 0.2),
        ("$0.2 / 1M tokens", "per_mtok", 0.2),
        ("US$0.5 per million tokens", "per_mtok", 0.5),
        ("$1,250.00", "per_mtok", 1250.0),
        ("Free", "per_mtok", 0.0),
        ("$0.002", "per_1k_tokens", 2.0),
        ("$0.0004 / 1K tokens", "per_mtok", 0.4),
        ("$0.0000015 per token", "per_mtok", 1.5),
        ("$0.60*", "per_mtok", 0.6),
        ("$0.60 [2]", "per_mtok", 0.6),
    ],
)
def test_price_cells(cell, unit, expected):
    assert price_usd_per_mtok(cell, unit) == expected


@pytest.mark.parametrize("cell", ["-", "–", "", "N/A", "Contact us", "$0.20 / $0.40", "0,20 €", "TBD"])
def test_cells_that_are_not_prices(cell):
    with pytest.raises(BadPrice, match="is not a price"):
        price_usd_per_mtok(cell, "per_mtok", "input")


def test_bad_page_settings_are_named(tmp_path):
    bad = tmp_path / "pages.yaml"
    bad.write_text("pages:\n  - provider: x\n    url: https://x\n    unit: per_gallon\n")
    with pytest.raises(ValueError, match="unit 'per_gallon' is not one of"):
        load_pages(bad)
    bad.write_text("pages:\n  - url: https://x\n")
    with pytest.raises(ValueError, match="`provider` is required"):
        load_pages(bad)
