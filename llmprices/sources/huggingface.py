"""Hugging Face inference-providers router `GET /v1/models`: each provider's price of each Hub model.

Prices are numbers in USD per million tokens; a provider entry without `pricing` has no price yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, Rejection, SourceSpec
from llmprices.sources.common import data_list, disambiguate_variants, int_or_none, number_or_none
from llmprices.sources.prices import BadPrice, usd_per_mtok
from llmprices.sources.providers import canonical_provider

DEFAULT_API_BASE = "https://router.huggingface.co/v1"
API_BASE_ENV = "HF_ROUTER_API_BASE"
PAYLOAD_NAME = "models.json"
#: Provider statuses that mean the provider serves the model to everyone (`staging` is not public yet).
LIVE_STATUSES = {"live", None}


def fetch(http: HttpClient, api_base: str = DEFAULT_API_BASE) -> list[RawPayload]:
    """The router's `/models` list (every model with each provider's price), as one payload."""
    return [RawPayload.from_response(PAYLOAD_NAME, http.get(f"{api_base.rstrip('/')}/models"))]


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    for payload in payloads:
        entries = data_list(payload)
        parsed = ParsedPayload(payload)
        listings, records = [], []
        for model in entries:
            for listing, record in _parse_model(model, parsed):
                listings.append(listing)
                records.append(record)
        parsed.listings.extend(disambiguate_variants(listings, parsed.rejections, records))
        yield parsed


def _parse_model(model: object, parsed: ParsedPayload) -> Iterator[tuple[Listing, object]]:
    if not isinstance(model, dict) or not isinstance(model.get("id"), str):
        parsed.rejections.append(Rejection("model record has no string `id`", model))
        return
    model_id = model["id"]
    providers = model.get("providers")
    if not isinstance(providers, list):
        parsed.rejections.append(Rejection("model has no `providers` list", model, None, model_id))
        return
    for entry in providers:
        listing = _parse_provider(model_id, entry, parsed)
        if listing is not None:
            yield listing, {"model": model_id, "provider_entry": entry}


def _parse_provider(model_id: str, entry: object, parsed: ParsedPayload) -> Listing | None:
    record = {"model": model_id, "provider_entry": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("provider"), str) or not entry["provider"].strip():
        parsed.rejections.append(Rejection("provider entry has no `provider` name", record, None, model_id))
        return None
    provider = canonical_provider(entry["provider"])
    if not any(entry.get("status") == status for status in LIVE_STATUSES):  # any JSON value, lists included
        reason = f"provider status {entry.get('status')!r} is not live"
        parsed.rejections.append(Rejection(reason, record, provider, model_id))
        return None
    pricing = entry.get("pricing")
    if pricing is None:
        parsed.rejections.append(Rejection("no pricing", record, provider, model_id))
        return None
    try:
        if not isinstance(pricing, dict):
            raise BadPrice(f"pricing={pricing!r} is not an object")
        input_price = usd_per_mtok(pricing.get("input"), "pricing.input")
        output_price = usd_per_mtok(pricing.get("output"), "pricing.output")
    except BadPrice as exc:
        parsed.rejections.append(Rejection(str(exc), record, provider, model_id))
        return None
    is_free = entry.get("is_free")
    return Listing(
        provider=provider,
        provider_model_id=model_id,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
        model_hint=model_id,
        context_length=int_or_none(entry.get("context_length")),
        is_free=is_free if isinstance(is_free, bool) else None,
        latency_ms=number_or_none(entry.get("first_token_latency_ms")),
        throughput_tps=number_or_none(entry.get("throughput")),
    )


SOURCE = SourceSpec(
    name="huggingface",
    description="Hugging Face inference-providers router (GET /v1/models): each provider's price per Hub model.",
    parse=parse,
    archive_payload_name=PAYLOAD_NAME,
)
