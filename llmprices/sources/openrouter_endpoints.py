"""OpenRouter `GET /models/{author}/{slug}/endpoints`: each serving provider's own price of a model.

`/models` gives OpenRouter's single price per model; the endpoints list gives one row per provider
behind it (Fireworks, Together, DeepInfra, ...), with its quantization, context, uptime, latency and
throughput. Open-weight models (those with a `hugging_face_id`) are the ones with several providers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, PayloadError, Rejection, SourceSpec
from llmprices.sources.common import (
    data_list,
    disambiguate_variants,
    encoded_path,
    fetch_error_rejections,
    fetch_errors_payload,
    fetch_many,
    int_or_none,
    is_fetch_errors,
    load_json,
    number_or_none,
)
from llmprices.sources.openrouter import DEFAULT_API_BASE
from llmprices.sources.openrouter import fetch_pages as fetch_models_pages
from llmprices.sources.prices import PER_TOKEN, BadPrice, decimal_amount, usd_per_mtok
from llmprices.sources.providers import canonical_provider

SOURCE_NAME = "openrouter_endpoints"
UNSAFE_ID = "not requested: the model id has an empty, `.` or `..` part, which would leave the API's path"


def fetch(http: HttpClient, api_base: str = DEFAULT_API_BASE, extra_models: Sequence[str] = ()) -> list[RawPayload]:
    """OpenRouter's `/models` pages, then the endpoints of every open-weight model on them and of
    `extra_models` (OpenRouter ids, `author/slug`, to fetch even without a hugging_face_id)."""
    base = api_base.rstrip("/")
    model_pages, failures = fetch_models_pages(http, base)
    models = select_models([m for page in model_pages for m in data_list(page)], extra_models)
    # HTTP clients and servers resolve `..` even percent-encoded: such an id is never asked for
    unsafe = [m for m in models if any(part in ("", ".", "..") for part in m.split("/"))]
    failures += [{"name": endpoints_payload_name(m), "model": m, "error": UNSAFE_ID} for m in unsafe]
    models = [m for m in models if m not in unsafe]
    requests = [(endpoints_payload_name(m), f"{base}/models/{encoded_path(m)}/endpoints") for m in models]
    payloads, endpoint_failures = fetch_many(http, requests)
    by_name = dict(zip([name for name, _ in requests], models, strict=True))
    for failure in endpoint_failures:
        failure["model"] = by_name[failure["name"]]
    failures += endpoint_failures
    if failures:
        payloads.append(fetch_errors_payload(f"{base}/models", failures))
    return model_pages + payloads


def select_models(records: list, extra_models: Sequence[str]) -> list[str]:
    """Model ids with a non-empty `hugging_face_id` (open weights), then the extra ones, each once."""
    chosen = [
        r["id"]
        for r in records
        if isinstance(r, dict) and isinstance(r.get("id"), str) and "/" in r["id"] and r.get("hugging_face_id")
    ]
    return list(dict.fromkeys(chosen + [m.strip() for m in extra_models if m.strip()]))


def endpoints_payload_name(model_id: str) -> str:
    """`endpoints/{author}/{slug}.json`, derived from the id so that no id can name a file outside `endpoints/`."""
    return f"endpoints/{encoded_path(model_id)}.json"


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    """Listings of the endpoints payloads; `/models` pages only lend their `hugging_face_id`s as hints.

    The hints are found when the day's payloads are parsed together; an endpoints payload parsed on
    its own gets no `model_hint` (its listings are otherwise the same).
    """
    hints: dict[str, str] = {}
    documents: list[object | None] = []
    for payload in payloads:
        if is_fetch_errors(payload):
            documents.append(None)
            continue
        document = load_json(payload)
        documents.append(document)
        if isinstance(document, dict) and isinstance(document.get("data"), list):
            for record in document["data"]:
                if isinstance(record, dict) and isinstance(record.get("id"), str) and record.get("hugging_face_id"):
                    hints[record["id"]] = str(record["hugging_face_id"])
    for payload, document in zip(payloads, documents, strict=True):
        parsed = ParsedPayload(payload)
        if document is None:
            parsed.rejections.extend(fetch_error_rejections(payload))
        elif isinstance(document, dict) and isinstance(document.get("data"), list):
            pass  # a /models page: kept for provenance, its prices are the `openrouter` source's
        else:
            _parse_endpoints(payload, document, hints, parsed)
        yield parsed


def _parse_endpoints(payload: RawPayload, document: object, hints: dict[str, str], parsed: ParsedPayload) -> None:
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        keys = list(document)[:10] if isinstance(document, dict) else type(document).__name__
        raise PayloadError(f"{payload.name} has no `data.endpoints` list (got {keys})")
    model_id = data.get("id") if isinstance(data.get("id"), str) else None
    listings, records = [], []
    for record in data["endpoints"]:
        listing = _parse_endpoint(record, model_id, hints, parsed)
        if listing is not None:
            listings.append(listing)
            records.append(record)
    parsed.listings.extend(disambiguate_variants(listings, parsed.rejections, records))


def _parse_endpoint(record: object, model_id: str | None, hints: dict[str, str], parsed) -> Listing | None:
    if not isinstance(record, dict):
        parsed.rejections.append(Rejection("endpoint record is not an object", record, None, model_id))
        return None
    model_id = record.get("model_id") if isinstance(record.get("model_id"), str) else model_id
    tag = record.get("tag") if isinstance(record.get("tag"), str) else ""
    name = record.get("provider_name") if isinstance(record.get("provider_name"), str) else ""
    if not (name or tag) or not model_id:
        parsed.rejections.append(Rejection("endpoint has no provider_name/tag or no model id", record, None, model_id))
        return None
    # The tag's first part is OpenRouter's provider slug (`google-vertex`), steadier than the display
    # name (`Google`, which could be Vertex or AI Studio); the display name is the fallback.
    provider = canonical_provider(tag.split("/", 1)[0] or name)
    pricing = record.get("pricing")
    if not isinstance(pricing, dict):
        parsed.rejections.append(Rejection("endpoint has no `pricing` object", record, provider, model_id))
        return None
    try:
        discount = _discount(pricing.get("discount"))
        input_price = _discounted(pricing.get("prompt"), discount, "pricing.prompt")
        output_price = _discounted(pricing.get("completion"), discount, "pricing.completion")
    except BadPrice as exc:
        parsed.rejections.append(Rejection(str(exc), record, provider, model_id))
        return None
    try:
        cache_read = _discounted(pricing.get("input_cache_read"), discount, "pricing.input_cache_read")
    except BadPrice:
        cache_read = None
    return Listing(
        provider=provider,
        provider_model_id=model_id,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
        variant=tag.split("/", 1)[1] if "/" in tag else "",
        model_hint=hints.get(model_id) or hints.get(model_id.split(":", 1)[0]),
        context_length=int_or_none(record.get("context_length")),
        quantization=_quantization(record.get("quantization")),
        is_free=model_id.endswith(":free") or (input_price == 0 and output_price == 0),
        cache_read_usd_per_mtok=cache_read,
        latency_ms=_p50(record.get("latency_last_30m")),
        throughput_tps=_p50(record.get("throughput_last_30m")),
        uptime_pct=number_or_none(record.get("uptime_last_30m")),
    )


def _discount(value: object) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    discount = decimal_amount(value, "pricing.discount")
    if not 0 <= discount <= 1:
        raise BadPrice(f"pricing.discount={value!r} is not a fraction between 0 and 1")
    return discount


def _discounted(value: object, discount: Decimal, field_name: str) -> float:
    """USD per million after the endpoint's discount: price x (1 - discount), in exact decimals."""
    price = usd_per_mtok(value, field_name, PER_TOKEN, discount)  # rejects "-1", missing, not-a-number
    if discount and price < 0:
        raise BadPrice(f"{field_name}={value!r} is negative")
    return price


def _quantization(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == "unknown":
        return None
    return value.strip().lower()


def _p50(value: object) -> float | None:
    """The median of a `{p50, p75, ...}` percentile object, or the number itself."""
    if isinstance(value, dict):
        return number_or_none(value.get("p50"))
    return number_or_none(value)


SOURCE = SourceSpec(
    name=SOURCE_NAME,
    description=(
        "Each provider's own price of open-weight models on OpenRouter (GET /models/{id}/endpoints), "
        "with quantization, uptime, latency and throughput."
    ),
    parse=parse,
)
