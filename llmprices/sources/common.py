"""Small helpers the source parsers share: reading JSON payloads, optional numbers, listing keys."""

from __future__ import annotations

import hashlib
import json
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from llmprices.http import FetchDeadlineExceeded, HttpClient, redact
from llmprices.payloads import RawPayload
from llmprices.sources.base import Listing, PayloadError, Rejection

FETCH_ERRORS_NAME = "fetch_errors.json"
#: A path part longer than this (bytes) is named by its hash: file systems refuse names over 255 bytes.
MAX_PART_BYTES = 200


def load_json(payload: RawPayload) -> object:
    """The payload's JSON document, or a PayloadError naming the payload."""
    try:
        return json.loads(payload.body)
    except ValueError as exc:
        raise PayloadError(f"{payload.name} is not JSON: {exc}") from None


def data_list(payload: RawPayload) -> list:
    """The top-level `data` list of an OpenAI-style /models payload, or a PayloadError saying what is there."""
    document = load_json(payload)
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        found = list(document)[:10] if isinstance(document, dict) else type(document).__name__
        raise PayloadError(f"{payload.name} has no top-level `data` list (got {found})")
    return document["data"]


#: The lake's integers are int64.
MAX_INT = 2**63 - 1


def text_or_none(value: object) -> str | None:
    """A non-blank string field as it is, else None (a payload may put any JSON value where a name belongs)."""
    return value if isinstance(value, str) and value.strip() else None


def int_or_none(value: object) -> int | None:
    """A positive-or-zero integer field (a JSON int, or a float with no fraction) that fits the lake's int64,
    else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_INT:
        return value
    return None


def number_or_none(value: object) -> float | None:
    """A finite JSON number as a float, else None (null, strings, booleans, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def disambiguate_variants(listings: list[Listing], rejections: list[Rejection], records: list[object]) -> list[Listing]:
    """Keep one row per (provider, provider_model_id, variant), the lake's listing key.

    Listings that collide get their quantization added to the variant (`fast` -> `fast-fp8`); any
    that still collide are rejected as duplicates. `records[i]` is the source record of `listings[i]`.
    """

    def key(item: Listing) -> tuple[str, str, str]:
        return (item.provider, item.provider_model_id, item.variant)

    counts: dict[tuple[str, str, str], int] = {}
    for listing in listings:
        counts[key(listing)] = counts.get(key(listing), 0) + 1
    kept: list[Listing] = []
    seen: set[tuple[str, str, str]] = set()
    for listing, record in zip(listings, records, strict=True):
        if counts[key(listing)] > 1:
            listing.variant = "-".join(part for part in (listing.variant, listing.quantization or "unknown") if part)
        if key(listing) in seen:
            rejections.append(
                Rejection(
                    f"duplicate listing: {listing.provider} lists {listing.provider_model_id} twice with the "
                    f"same variant {listing.variant!r}",
                    record,
                    listing.provider,
                    listing.provider_model_id,
                )
            )
            continue
        seen.add(key(listing))
        kept.append(listing)
    return kept


def fetch_many(
    http: HttpClient, urls: list[tuple[str, str]], headers: dict[str, str] | None = None
) -> tuple[list[RawPayload], list[dict]]:
    """GET each (name, url) with at most `http.max_concurrency` requests in flight.

    Returns the payloads in the order asked and, separately, the failures as {name, url, error}:
    one URL failing (after the client's retries) never loses the others. Past the client's deadline the
    whole fetch fails (FetchDeadlineExceeded).
    """

    def one(item: tuple[str, str]) -> RawPayload | dict:
        name, url = item
        try:
            response = http.get(url, headers=headers)
        except FetchDeadlineExceeded:
            raise  # the whole fetch is out of time: it fails, rather than land a part of the day
        except Exception as exc:  # noqa: BLE001 - any failure of one URL is recorded, not raised
            return {"name": name, "url": redact(url), "error": redact(f"{type(exc).__name__}: {exc}")}
        return RawPayload.from_response(name, response)

    if not urls:
        return [], []
    with ThreadPoolExecutor(max_workers=max(1, min(http.max_concurrency, len(urls)))) as pool:
        results = list(pool.map(one, urls))
    return [r for r in results if isinstance(r, RawPayload)], [r for r in results if isinstance(r, dict)]


def fetch_errors_payload(source_url: str, failures: list[dict]) -> RawPayload:
    """The failed requests of a fetch as a payload of its own, so the parser can quarantine them.

    It is made by the fetch, not received: its `http_status` is 0.
    """
    body = json.dumps({"errors": failures}, indent=1, sort_keys=True).encode()
    return RawPayload(FETCH_ERRORS_NAME, source_url, 0, datetime.now(UTC), body)


def fetch_error_rejections(payload: RawPayload, provider: str | None = None) -> list[Rejection]:
    """The Rejections of a `fetch_errors.json` payload: one per request that failed."""
    document = load_json(payload)
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        raise PayloadError(f"{payload.name} has no `errors` list")
    rejections = []
    for error in errors:
        detail = error if isinstance(error, dict) else {"error": error}
        reason = f"fetch failed: {detail.get('error', 'unknown error')}"
        rejections.append(
            Rejection(reason, detail, provider, detail.get("model") or detail.get("name"), failed_check="fetch")
        )
    return rejections


def is_fetch_errors(payload: RawPayload) -> bool:
    return payload.name.rsplit("/", 1)[-1] == FETCH_ERRORS_NAME


def encoded_path(identifier: str) -> str:
    """An id taken from a payload as a relative path, for a request URL or a payload name.

    Each `/`-separated part is percent-encoded (`:` kept), `.`/`..` and empty parts are encoded too (`%2E`, `%`:
    forms `quote` never yields, so distinct ids stay distinct), and a part too long for a file name is named by its
    hash: whatever the id, the path stays inside the folder or URL path it is put in.
    """
    parts = []
    for part in identifier.split("/"):
        encoded = quote(part, safe=":")
        if not encoded:
            encoded = "%"
        elif set(encoded) == {"."}:
            encoded = "%2E" * len(encoded)
        if len(encoded.encode()) > MAX_PART_BYTES:
            encoded = "sha256-" + hashlib.sha256(part.encode()).hexdigest()
        parts.append(encoded)
    return "/".join(parts)


def same_origin(url: str, base: str) -> bool:
    """`url` is on `base`'s scheme, host and port, under its path: where a source was configured to fetch."""
    target, home = urlsplit(url), urlsplit(base)
    prefix = home.path.rstrip("/") + "/"
    return (target.scheme, target.netloc) == (home.scheme, home.netloc) and (target.path + "/").startswith(prefix)
