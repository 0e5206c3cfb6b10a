"""OpenRouter `GET /models`: OpenRouter's own price for each model it routes (a reseller price).

Paging stays on the configured API: a `links.next` elsewhere is not followed, and every early stop (that, a
later page failing, the page cap) is kept as `fetch_errors.json` and quarantined, with the pages before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from llmprices.http import FetchDeadlineExceeded, HttpClient, HttpError, PayloadTooLarge, redact
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, Rejection, SourceSpec
from llmprices.sources.common import (
    data_list,
    fetch_error_rejections,
    fetch_errors_payload,
    int_or_none,
    is_fetch_errors,
    same_origin,
    text_or_none,
)
from llmprices.sources.prices import PER_TOKEN, BadPrice, optional_usd_per_mtok, usd_per_mtok

DEFAULT_API_BASE = "https://openrouter.ai/api/v1"
API_BASE_ENV = "OPENROUTER_API_BASE"
MAX_PAGES = 50


def fetch(http: HttpClient, api_base: str = DEFAULT_API_BASE) -> list[RawPayload]:
    """`GET {api_base}/models` and the pages after it; what stopped the paging early is a `fetch_errors.json`."""
    pages, failures = fetch_pages(http, api_base)
    return pages + ([fetch_errors_payload(f"{api_base.rstrip('/')}/models", failures)] if failures else [])


def fetch_pages(http: HttpClient, api_base: str = DEFAULT_API_BASE) -> tuple[list[RawPayload], list[dict]]:
    """The `/models` pages, following `links.next` or offset/limit pagination, and why paging stopped early.

    The first page failing fails the fetch. After it, a page that fails, a next link off the configured origin
    (never followed) or the page cap reached stops the paging: the pages so far are kept, and the reason is
    returned as a failure ({name, url, error}) for the parser to quarantine.
    """
    base = api_base.rstrip("/")
    pages: list[RawPayload] = []
    failures: list[dict] = []
    url: str | None = f"{base}/models"
    seen: set[str] = set()
    while url:
        name = "models.json" if not pages else f"models-page{len(pages) + 1}.json"
        stop = _why_not_follow(url, base, seen, len(pages))
        if stop:
            failures.append({"name": name, "url": redact(url)[:500], "error": stop})
            break
        seen.add(url)
        try:
            response = http.get(url)
        except FetchDeadlineExceeded:
            raise
        except (HttpError, PayloadTooLarge) as exc:
            if not pages:
                raise
            failures.append({"name": name, "url": redact(url), "error": f"{type(exc).__name__}: {exc}"})
            break
        pages.append(RawPayload.from_response(name, response))
        url = _next_page_url(response.body, response.url)
    return pages, failures


def _why_not_follow(url: str, base: str, seen: set[str], fetched: int) -> str | None:
    if fetched >= MAX_PAGES:
        return f"stopped at the cap of {MAX_PAGES} pages: the later pages were not fetched"
    if not same_origin(url, base):
        return f"the next page's link leaves the configured API ({base}): not followed"
    if url in seen:
        return "the next page's link points back at a page already fetched: not followed"
    return None


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
        if is_fetch_errors(payload):
            parsed.rejections.extend(fetch_error_rejections(payload, provider="openrouter"))
        else:
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
            model_hint=text_or_none(record.get("hugging_face_id")),
            context_length=int_or_none(record.get("context_length")),
            is_free=model_id.endswith(":free") or (input_price == 0 and output_price == 0),
            cache_read_usd_per_mtok=optional_usd_per_mtok(cache_read, PER_TOKEN),
        )
    )


SOURCE = SourceSpec(
    name="openrouter",
    description="OpenRouter's own price per model (GET /models); a reseller price.",
    parse=parse,
    archive_payload_name="models.json",
)
