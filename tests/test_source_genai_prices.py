"""genai_prices on all 48 real days of pydantic/genai-prices, whose schema changed during 2025."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import PayloadError
from llmprices.sources.genai_prices import fetch, parse

EMPTY = "prices is empty: genai-prices gives no price (a free tier or an unpriced model)"
INPUT_ONLY = "input-only price (no output_mtok): an embedding or other input-only model"


def _day(shared_data: Path, day: str) -> RawPayload:
    body = gzip.decompress((shared_data / "genai-prices" / f"{day}.json.gz").read_bytes())
    return RawPayload("data.json", "x", 200, None, body)


def _rows(shared_data: Path, day: str, as_of: date | None = None):
    [parsed] = parse([_day(shared_data, day)], as_of or date.fromisoformat(day))
    return {(i.provider, i.provider_model_id, i.variant): i for i in parsed.listings}, parsed.rejections


def _prices(item):
    return item.input_usd_per_mtok, item.output_usd_per_mtok, item.cache_read_usd_per_mtok


def test_all_48_days_parse(shared_data: Path):
    files = sorted((shared_data / "genai-prices").glob("*.json.gz"))
    assert len(files) == 48
    counts = {}
    for file in files:
        day = file.name[:10]
        [parsed] = parse([_day(shared_data, day)], date.fromisoformat(day))
        keys = [(i.provider, i.provider_model_id, i.variant) for i in parsed.listings]
        assert len(keys) == len(set(keys)), day  # the lake's listing key is unique
        assert all(i.input_usd_per_mtok >= 0 and i.output_usd_per_mtok >= 0 for i in parsed.listings)
        document = json.loads(_day(shared_data, day).body)
        assert len(parsed.listings) + len(parsed.rejections) == sum(len(p["models"]) for p in document), day
        counts[day] = (len(parsed.listings), len(parsed.rejections))
    assert counts["2025-06-22"] == (831, 69)
    assert counts["2025-07-12"] == (729, 142)
    assert counts["2025-12-31"] == (1008, 164)


def test_rejection_reasons_on_the_last_day(shared_data: Path):
    rows, rejections = _rows(shared_data, "2025-12-31")
    assert Counter(r.reason for r in rejections) == {EMPTY: 146, INPUT_ONLY: 16, "input_mtok is missing": 2}
    audio = {r.provider_model_id for r in rejections if r.reason == "input_mtok is missing"}
    assert audio == {"gpt-4o-audio-preview", "gpt-4o-mini-audio-preview"}


def test_deepseek_off_peak_list_keeps_the_standard_price(shared_data: Path):
    # 2025-07-11: one price object; 2025-07-12: a list whose unconstrained entry is the off-peak price
    # (UTC 16:30-00:30) and whose 00:30-16:30 window is the standard price: the standard one is kept.
    before, _ = _rows(shared_data, "2025-07-11")
    after, _ = _rows(shared_data, "2025-07-12")
    for rows in (before, after):
        assert _prices(rows["deepseek", "deepseek-chat", ""]) == (0.27, 1.1, 0.07)
        assert _prices(rows["deepseek", "deepseek-reasoner", ""]) == (0.55, 2.19, 0.14)
    last, _ = _rows(shared_data, "2025-12-31")
    assert _prices(last["deepseek", "deepseek-chat", ""]) == (0.27, 1.1, 0.07)
    assert last["deepseek", "deepseek-chat", ""].context_length == 64000


def test_o3_start_date_price_is_the_one_in_force(shared_data: Path):
    rows, _ = _rows(shared_data, "2025-07-12")
    assert _prices(rows["openai", "o3", ""]) == (2.0, 8.0, 0.5)  # from 2025-06-10
    earlier, _ = _rows(shared_data, "2025-07-12", as_of=date(2025, 6, 9))
    assert _prices(earlier["openai", "o3", ""]) == (10.0, 40.0, 0.5)  # the unconstrained launch price


def test_tiered_prices_keep_the_base(shared_data: Path):
    rows, _ = _rows(shared_data, "2025-12-31")
    sonnet = rows["anthropic", "claude-sonnet-4-5", ""]
    assert (*_prices(sonnet), sonnet.price_is_tiered, sonnet.context_length) == (3.0, 15.0, 0.3, True, 1000000)
    gemini = rows["google-ai-studio", "gemini-2.5-pro", ""]
    assert (*_prices(gemini), gemini.price_is_tiered) == (1.25, 10.0, 0.125, True)
    flash = rows["google-ai-studio", "gemini-2.0-flash", ""]  # only its cache price is tiered
    assert (*_prices(flash), flash.price_is_tiered) == (0.1, 0.4, 0.025, False)
    assert sum(i.price_is_tiered for i in rows.values()) == 9


def test_huggingface_providers_are_their_own_variant(shared_data: Path):
    rows, _ = _rows(shared_data, "2025-12-31")
    via_hf = [key for key in rows if key[2] == "via-huggingface"]
    assert len(via_hf) == 169
    assert Counter(provider for provider, _, _ in via_hf)["fireworks"] == 9  # from `huggingface_fireworks-ai`
    qwen = rows["cerebras", "Qwen/Qwen3-32B", "via-huggingface"]
    assert (qwen.input_usd_per_mtok, qwen.output_usd_per_mtok, qwen.model_hint) == (0.4, 0.8, "Qwen/Qwen3-32B")
    assert not any(provider.startswith("huggingface") for provider, _, _ in rows)


def test_old_schema_day(shared_data: Path):
    rows, rejections = _rows(shared_data, "2025-06-22")  # `pricing_url`, `max_tokens`
    claude = rows["anthropic", "claude-2", ""]
    assert (claude.input_usd_per_mtok, claude.output_usd_per_mtok, claude.context_length) == (8.0, 24.0, 200000)
    assert _prices(rows["deepseek", "deepseek-chat", ""]) == (0.014, 0.028, None)
    assert Counter(r.reason for r in rejections) == {EMPTY: 63, INPUT_ONLY: 6}


def _document(prices) -> bytes:
    return json.dumps(
        [{"id": "p", "name": "P", "api_pattern": "", "models": [{"id": "m", "match": {}, "prices": prices}]}]
    ).encode()


@pytest.mark.parametrize(
    ("prices", "day", "expected"),
    [
        # a window covering less than half the day loses to the unconstrained price
        (
            [
                {"prices": {"input_mtok": 1, "output_mtok": 2}},
                {
                    "constraint": {"start_time": "16:30:00Z", "end_time": "00:30:00Z"},
                    "prices": {"input_mtok": 0.5, "output_mtok": 1},
                },
            ],
            date(2025, 9, 1),
            (1.0, 2.0),
        ),
        # start dates: the latest one started wins, whatever the list order
        (
            [
                {"constraint": {"start_date": "2025-08-01"}, "prices": {"input_mtok": 3, "output_mtok": 4}},
                {"prices": {"input_mtok": 1, "output_mtok": 2}},
                {"constraint": {"start_date": "2025-10-01"}, "prices": {"input_mtok": 5, "output_mtok": 6}},
            ],
            date(2025, 9, 1),
            (3.0, 4.0),
        ),
    ],
)
def test_constraint_selection(prices, day, expected):
    [parsed] = parse([RawPayload("data.json", "x", 200, None, _document(prices))], day)
    assert [(i.input_usd_per_mtok, i.output_usd_per_mtok) for i in parsed.listings] == [expected]


def test_bad_prices_are_rejections_and_bad_payloads_raise():
    future = [{"constraint": {"start_date": "2026-01-01"}, "prices": {"input_mtok": 1, "output_mtok": 1}}]
    [parsed] = parse([RawPayload("data.json", "x", 200, None, _document(future))], date(2025, 9, 1))
    assert [r.reason for r in parsed.rejections] == ["no price in force on 2025-09-01: every listed price starts later"]
    [parsed] = parse(
        [RawPayload("data.json", "x", 200, None, _document({"input_mtok": "x", "output_mtok": 1}))], date(2025, 9, 1)
    )
    assert [r.reason for r in parsed.rejections] == ["input_mtok='x' is not a number"]
    with pytest.raises(PayloadError, match="not a JSON list of providers"):
        list(parse([RawPayload("data.json", "x", 200, None, b'{"providers": []}')], date(2025, 9, 1)))


def test_fetch_over_http(http_server, shared_data: Path):
    body = _day(shared_data, "2025-12-31").body
    url = http_server.add("/prices/data.json", body)
    client = HttpClient(backoff_factor_s=0, max_retries=1)
    payloads = fetch(client, url)
    assert [(p.name, p.url, p.body) for p in payloads] == [("data.json", url, body)]
    [parsed] = parse(payloads, date(2025, 12, 31))
    assert len(parsed.listings) == 1008


def test_blocks_copied_from_openrouter_are_measured(shared_data: Path):
    """2025-06-22: the `deepseek` block is 3/7 OpenRouter ids (`deepseek-r1-distill-qwen-32b:free`, ...)."""
    rows, _ = _rows(shared_data, "2025-06-22")
    share = {provider: listing.router_id_share for (provider, _, _), listing in rows.items()}
    assert round(share["deepseek"], 3) == 0.429
    assert round(share["openrouter"], 3) == 0.232  # OpenRouter's own block: resale by its provider anyway
    assert share["anthropic"] == 0 and share["groq"] == 0


def test_deprecation_is_kept():
    def model(model_id: str, **fields) -> dict:
        return {"id": model_id, "match": {}, "prices": {"input_mtok": 1, "output_mtok": 2}, **fields}

    models = [model("dated", deprecation_date="2025-03-31"), model("flag", deprecated=True), model("live")]
    body = json.dumps([{"id": "groq", "name": "Groq", "api_pattern": "", "models": models}]).encode()
    [parsed] = parse([RawPayload("data.json", "x", 200, None, body)], date(2025, 9, 1))
    assert [(i.provider_model_id, i.deprecation_date) for i in parsed.listings] == [
        ("dated", date(2025, 3, 31)),
        ("flag", date(2025, 9, 1)),  # deprecated by this snapshot at the latest
        ("live", None),
    ]
