"""Artificial Analysis `GET /data/llms/models`: a model's price with its measured speed (needs an API key).

The seed analysis used this data. One row per model: the price Artificial Analysis quotes for it
(attributed to the model's creator), the median time to first token and output tokens per second.
The key goes in the `x-api-key` header only: never in a URL, a payload name or a log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from llmprices.http import HttpClient, redact, register_secret
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, Rejection, SourceNotConfigured, SourceSpec
from llmprices.sources.common import data_list, disambiguate_variants, number_or_none
from llmprices.sources.prices import BadPrice, usd_per_mtok
from llmprices.sources.providers import canonical_provider

DEFAULT_API_BASE = "https://artificialanalysis.ai/api/v2"
API_BASE_ENV = "ARTIFICIALANALYSIS_API_BASE"
API_KEY_ENV = "ARTIFICIALANALYSIS_API_KEY"
PAYLOAD_NAME = "models.json"


def fetch(http: HttpClient, api_base: str = DEFAULT_API_BASE, api_key: str = "") -> list[RawPayload]:
    """The models list, with the key in the `x-api-key` header; without a key the source is not configured."""
    key = api_key.strip()
    if not key:
        raise SourceNotConfigured(
            f"set {API_KEY_ENV} (a free key from https://artificialanalysis.ai/) to fetch Artificial Analysis"
        )
    register_secret(key)  # a server may echo it (a 401's body): it never reaches an error, a log or the lake
    response = http.get(f"{api_base.rstrip('/')}/data/llms/models", headers={"x-api-key": key})
    return [RawPayload.from_response(PAYLOAD_NAME, response, redact(response.url))]


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    for payload in payloads:
        entries = data_list(payload)
        parsed = ParsedPayload(payload)
        listings, records = [], []
        for record in entries:
            listing = _parse_model(record, parsed)
            if listing is not None:
                listings.append(listing)
                records.append(record)
        parsed.listings.extend(disambiguate_variants(listings, parsed.rejections, records))
        yield parsed


def _parse_model(record: object, parsed: ParsedPayload) -> Listing | None:
    if not isinstance(record, dict) or not isinstance(record.get("slug"), str) or not record["slug"]:
        parsed.rejections.append(Rejection("model record has no string `slug`", record))
        return None
    slug = record["slug"]
    creator = record.get("model_creator")
    creator_slug = creator.get("slug") or creator.get("name") if isinstance(creator, dict) else None
    if not isinstance(creator_slug, str) or not creator_slug.strip():
        parsed.rejections.append(Rejection("model has no `model_creator.slug`", record, None, slug))
        return None
    provider = canonical_provider(creator_slug)
    pricing = record.get("pricing")
    try:
        if not isinstance(pricing, dict):
            raise BadPrice("model has no `pricing` object")
        input_price = usd_per_mtok(pricing.get("price_1m_input_tokens"), "pricing.price_1m_input_tokens")
        output_price = usd_per_mtok(pricing.get("price_1m_output_tokens"), "pricing.price_1m_output_tokens")
        if input_price < 0 or output_price < 0:
            raise BadPrice(f"negative price (input {input_price}, output {output_price})")
        if input_price == 0 and output_price == 0:
            raise BadPrice("both prices are 0: Artificial Analysis has no price for this model")
    except BadPrice as exc:
        parsed.rejections.append(Rejection(str(exc), record, provider, slug))
        return None
    ttft_s = _positive(record.get("median_time_to_first_token_seconds"))
    return Listing(
        provider=provider,
        provider_model_id=slug,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
        latency_ms=ttft_s * 1000 if ttft_s is not None else None,
        throughput_tps=_positive(record.get("median_output_tokens_per_second")),
    )


def _positive(value: object) -> float | None:
    """A measured median; Artificial Analysis reports 0 when it has no measurement."""
    number = number_or_none(value)
    return number if number is not None and number > 0 else None


SOURCE = SourceSpec(
    name="artificialanalysis",
    description="Artificial Analysis (GET /data/llms/models, needs ARTIFICIALANALYSIS_API_KEY): price and speed.",
    parse=parse,
    archive_payload_name=PAYLOAD_NAME,
)
