"""OpenRouter `GET /models`: OpenRouter's own price for each model it routes (a reseller price)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import RESALE, Listing, ParsedPayload, Rejection, SourceSpec
from llmprices.sources.common import data_list
from llmprices.sources.prices import PER_TOKEN, BadPrice, optional_usd_per_mtok, usd_per_mtok

DEFAULT_API_BASE = "https://openrouter.ai/api/v1"
API_BASE_ENV = "OPENROUTER_API_BASE"
MAX_PAGES = 50


def fetch(http: HttpClient, api_base: str = DEFAULT_API_BASE) -> list[RawPayload]:
    """`GET {api_base}/models`, following `links.next` or offset/limit pagination when the API pages."""
    payloads: list[RawPayload] = []
    url: str | None = f"{api_base.rstrip('/')}/models"
    while url and len(payloads) < MAX_PAGES:
        response = http.get(url)
        name = "models.json" if not payloads else f"models-page{len(payloads) + 1}.json"
        payloads.append(RawPayload.from_response(name, response))
        url = _next_page_url(response.body, response.url)
    return payloads


def _next_page_url(body: bytes, current_url: str) -> str | None:
    """The next page from `links.next`, or from `offset`/`limit`/`total` (top level or under `meta`)."""
    try:
        document = json.loads(body)
    except ValueError:
        return None  # the parser reports it; fetching keeps what it got
    if not isinstance(document, dict):
        return None
    links = document.get("links")
    if isinstance(links, dict) and isinstance(links.get("next"), str) and links["next"]:
        return urljoin(current_url, links["next"])
    paging = document.get("meta") if isinstance(document.get("meta"), dict) else document
    offset, limit, total = (paging.get(k) for k in ("offset", "limit", "total"))
    if all(isinstance(v, int) for v in (offset, limit, total)) and limit > 0 and offset + limit < total:
        parts = urlsplit(current_url)
        query = dict(parse_qsl(parts.query)) | {"offset": str(offset + limit), "limit": str(limit)}
        return urlunsplit(parts._replace(query=urlencode(query)))
    return None


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    for payload in payloads:
        parsed = ParsedPayload(payload)
        for record in data_list(payload):
            _parse_model(record, parsed)
        yield parsed


def _parse_model(record: object, parsed: ParsedPayload) -> None:
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        parsed.rejections.append(Rejection("model record has no string `id`", record, provider="openrouter"))
        return
    model_id = record["id"]
    pricing = record.get("pricing")
    if not isinstance(pricing, dict):
        parsed.rejections.append(Rejection("model has no `pricing` object", record, "openrouter", model_id))
        return
    try:
        input_price = usd_per_mtok(pricing.get("prompt"), "pricing.prompt", PER_TOKEN)
        output_price = usd_per_mtok(pricing.get("completion"), "pricing.completion", PER_TOKEN)
    except BadPrice as exc:
        parsed.rejections.append(Rejection(str(exc), record, "openrouter", model_id))
        return
    cache_read = pricing.get("input_cache_read")
    parsed.listings.append(
        Listing(
            provider="openrouter",
            provider_model_id=model_id,
            input_usd_per_mtok=input_price,
            output_usd_per_mtok=output_price,
            model_hint=record.get("hugging_face_id") or None,
            context_length=_int_or_none(record.get("context_length")),
            is_free=model_id.endswith(":free") or (input_price == 0 and output_price == 0),
            cache_read_usd_per_mtok=optional_usd_per_mtok(cache_read, PER_TOKEN),
        )
    )


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


SOURCE = SourceSpec(
    name="openrouter",
    description="OpenRouter's own price per model (GET /models); a reseller price.",
    parse=parse,
    archive_payload_name="models.json",
    offer_kind=RESALE,
)
