"""pydantic/genai-prices `prices/data.json`: a curated list of providers -> models -> prices per million.

Its schema moved during 2025 and the parser reads every version seen:
- provider `pricing_url` became `pricing_urls`; model `max_tokens` became `context_window`;
- a model's `prices` is one object, or a list of `{constraint?, prices}`: a `start_date` constraint is
  a price change (the latest one started by the snapshot day is in force; an entry without one applies
  from the beginning), a `start_time`/`end_time` constraint is a time-of-day window;
- a price is a number, or tiered by prompt length `{"base": 5, "tiers": [{"start": 200000, "price": 10}]}`
  (the base is kept, `price_is_tiered` set).

Time-of-day windows: the price kept is the one in force for most of the day. For DeepSeek the file
lists the off-peak price as the unconstrained default and the standard price under a 16-hour window
(its own comment says so), so "most of the day" keeps DeepSeek's standard list price, and the listing
does not halve the day the file switched to the list form.

Providers `huggingface_X` are the Hugging Face router's prices of provider X: they are listed as
provider X with variant `via-huggingface`, apart from X's own prices.

Kept for the trust rules: a model's `deprecation_date` (or `deprecated: true`, read as deprecated by the
snapshot day), and per listing the share of its provider block's ids in OpenRouter's own style (`:free`,
`:extended`, ...; unpriced ones included): the 2025 snapshots carry chunks of OpenRouter's catalogue, at
OpenRouter's prices, inside the `deepseek`, `google` and `mistral` blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, time

from llmprices.http import HttpClient
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, ParsedPayload, PayloadError, Rejection, SourceSpec
from llmprices.sources.common import date_or_none, disambiguate_variants, int_or_none, load_json
from llmprices.sources.prices import BadPrice, usd_per_mtok
from llmprices.sources.providers import canonical_provider

DEFAULT_URL = "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/data.json"
URL_ENV = "GENAI_PRICES_URL"
PAYLOAD_NAME = "data.json"
HUGGINGFACE_PREFIX = "huggingface_"
VIA_HUGGINGFACE = "via-huggingface"
MINUTES_PER_DAY = 24 * 60
#: Model-id suffixes only OpenRouter uses: a provider block carrying them was copied from its catalogue.
ROUTER_ID_SUFFIX = re.compile(r":(free|beta|extended|nitro|floor|online|thinking|exacto)$")


def fetch(http: HttpClient, url: str = DEFAULT_URL) -> list[RawPayload]:
    """genai-prices' data file, as one payload."""
    return [RawPayload.from_response(PAYLOAD_NAME, http.get(url))]


def parse(payloads: list[RawPayload], day: date) -> Iterator[ParsedPayload]:
    for payload in payloads:
        document = load_json(payload)
        if not isinstance(document, list):
            raise PayloadError(f"{payload.name} is not a JSON list of providers (got {type(document).__name__})")
        parsed = ParsedPayload(payload)
        listings, records = [], []
        for provider_record in document:
            for listing, record in _parse_provider(provider_record, day, parsed):
                listings.append(listing)
                records.append(record)
        parsed.listings.extend(disambiguate_variants(listings, parsed.rejections, records))
        yield parsed


def _parse_provider(record: object, day: date, parsed: ParsedPayload) -> Iterator[tuple[Listing, object]]:
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("id"), str)
        or not isinstance(record.get("models"), list)
    ):
        summary = {k: v for k, v in record.items() if k != "models"} if isinstance(record, dict) else record
        parsed.rejections.append(Rejection("provider record has no string `id` or no `models` list", summary))
        return
    provider_id = record["id"]
    if provider_id.startswith(HUGGINGFACE_PREFIX) and len(provider_id) > len(HUGGINGFACE_PREFIX):
        provider, variant = canonical_provider(provider_id[len(HUGGINGFACE_PREFIX) :]), VIA_HUGGINGFACE
    else:
        provider, variant = canonical_provider(provider_id), ""
    router_share = _router_id_share(record["models"])
    for model in record["models"]:
        listing = _parse_model(model, provider, variant, day, parsed)
        if listing is not None:
            listing.model_hint = listing.provider_model_id if variant == VIA_HUGGINGFACE else None
            listing.router_id_share = router_share
            yield listing, {"provider": provider_id, "model": model}


def _router_id_share(models: list) -> float:
    """The share of a provider block's model ids (priced or not) with an OpenRouter-only suffix."""
    ids = [model["id"] for model in models if isinstance(model, dict) and isinstance(model.get("id"), str)]
    return sum(bool(ROUTER_ID_SUFFIX.search(model_id)) for model_id in ids) / len(ids) if ids else 0.0


def _parse_model(model: object, provider: str, variant: str, day: date, parsed: ParsedPayload) -> Listing | None:
    if not isinstance(model, dict) or not isinstance(model.get("id"), str):
        parsed.rejections.append(Rejection("model record has no string `id`", model, provider))
        return None
    model_id = model["id"]
    try:
        prices = price_in_force(model.get("prices"), day)
        input_price, input_tiered = _price(prices, "input_mtok")
        output_price, output_tiered = _price(prices, "output_mtok")
    except BadPrice as exc:
        parsed.rejections.append(Rejection(str(exc), model, provider, model_id))
        return None
    try:
        cache_read, _ = _price(prices, "cache_read_mtok")
    except BadPrice:
        cache_read = None
    context = int_or_none(model.get("context_window"))
    if context is None:
        context = int_or_none(model.get("max_tokens"))
    return Listing(
        provider=provider,
        provider_model_id=model_id,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
        variant=variant,
        context_length=context,
        price_is_tiered=input_tiered or output_tiered,
        cache_read_usd_per_mtok=cache_read,
        deprecation_date=_deprecation_date(model, day),
    )


def _deprecation_date(model: dict, day: date) -> date | None:
    """The model's `deprecation_date`; a bare `deprecated: true` says it is deprecated by `day` at the latest."""
    stated = date_or_none(model.get("deprecation_date"))
    return stated or (day if model.get("deprecated") is True else None)


def price_in_force(prices: object, day: date) -> dict:
    """The prices object in force on `day`, from a single object or a list of constrained ones."""
    if isinstance(prices, dict):
        return _non_empty(prices)
    if not isinstance(prices, list) or not prices:
        raise BadPrice(f"prices={prices!r} is neither a prices object nor a list of them")
    dated: list[tuple[date, dict, dict]] = []  # (start date, constraint, prices)
    for entry in prices:
        if not isinstance(entry, dict) or not isinstance(entry.get("prices"), dict):
            raise BadPrice(f"prices list entry {entry!r} has no `prices` object")
        constraint = entry.get("constraint") or {}
        if not isinstance(constraint, dict):
            raise BadPrice(f"prices list entry has a constraint that is not an object: {constraint!r}")
        start = _date(constraint.get("start_date"), "constraint.start_date") or date.min
        end = _date(constraint.get("end_date"), "constraint.end_date")
        if start <= day and (end is None or day < end):
            dated.append((start, constraint, entry["prices"]))
    if not dated:
        raise BadPrice(f"no price in force on {day}: every listed price starts later")
    latest = max(start for start, _, _ in dated)
    current = [(constraint, p) for start, constraint, p in dated if start == latest]
    return _non_empty(_most_of_the_day(current))


def _most_of_the_day(entries: list[tuple[dict, dict]]) -> dict:
    """Of prices that differ by time of day, the one in force for the most minutes of the day.

    An entry without a time window applies outside every window; a tie goes to it.
    """
    windows = [(c, p) for c, p in entries if c.get("start_time") is not None or c.get("end_time") is not None]
    plain = [p for c, p in entries if c.get("start_time") is None and c.get("end_time") is None]
    if not windows:
        return plain[-1]
    coverage = [(_window_minutes(c), p) for c, p in windows]
    best_minutes, best = max(coverage, key=lambda item: item[0])
    if plain and MINUTES_PER_DAY - sum(minutes for minutes, _ in coverage) >= best_minutes:
        return plain[-1]
    return best


def _window_minutes(constraint: dict) -> int:
    start = _minute_of_day(constraint.get("start_time"), "constraint.start_time", default=0)
    end = _minute_of_day(constraint.get("end_time"), "constraint.end_time", default=MINUTES_PER_DAY)
    return (end - start) % MINUTES_PER_DAY or MINUTES_PER_DAY


def _minute_of_day(value: object, field_name: str, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadPrice(f"{field_name}={value!r} is not a time")
    try:
        parsed = time.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadPrice(f"{field_name}={value!r} is not a time") from None
    return parsed.hour * 60 + parsed.minute


def _date(value: object, field_name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise BadPrice(f"{field_name}={value!r} is not a date") from None


def _non_empty(prices: dict) -> dict:
    if not prices:
        raise BadPrice("prices is empty: genai-prices gives no price (a free tier or an unpriced model)")
    if "output_mtok" not in prices and "input_mtok" in prices:
        raise BadPrice("input-only price (no output_mtok): an embedding or other input-only model")
    if "input_mtok" not in prices and "output_mtok" not in prices:
        raise BadPrice(f"no input_mtok/output_mtok price (only {', '.join(sorted(prices))})")
    return prices


def _price(prices: dict, key: str) -> tuple[float, bool]:
    """(USD per million, tiered?) of one price: a number, or `{base, tiers}` whose base is kept."""
    value = prices.get(key)
    tiered = isinstance(value, dict)
    if tiered:
        if "base" not in value:
            raise BadPrice(f"{key}={value!r} is a tiered price without `base`")
        tiered, value, key = bool(value.get("tiers")), value["base"], f"{key}.base"
    amount = usd_per_mtok(value, key)
    if amount < 0:
        raise BadPrice(f"{key}={value!r} is negative")
    return amount, tiered


SOURCE = SourceSpec(
    name="genai_prices",
    description="pydantic/genai-prices data.json: curated prices per million tokens by provider and model.",
    parse=parse,
    archive_payload_name=PAYLOAD_NAME,
)
