"""What every price source provides: a configurable fetch and an offline parse.

A source's *resource* (a `PriceSource`) knows where to fetch from; its *parser* turns the payloads
kept in the lake's `raw/` area into listings, so re-parsing a past day never touches the network.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import dagster as dg

from pipeline.http import HttpClient, HttpResponse


def env_default(name: str, default: str = "") -> Callable[[], str]:
    """Default a resource field from an environment variable, so tests and users can repoint it."""
    return lambda: os.environ.get(name, default)


@dataclass(frozen=True)
class RawPayload:
    """One payload exactly as received, and where and when it came from."""

    name: str
    url: str
    http_status: int
    fetched_at: datetime
    body: bytes

    @classmethod
    def from_response(cls, name: str, response: HttpResponse, url: str | None = None) -> RawPayload:
        """Keep a response as received; `url` replaces the response's when it must not be stored as is."""
        return cls(name, url or response.url, response.status, response.fetched_at, response.body)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class PayloadError(Exception):
    """A payload that is not in the source's format at all (not JSON, top-level shape changed)."""


class SourceNotConfigured(Exception):
    """The source needs settings the user has not given (e.g. an API key); skip it, do not fail."""


@dataclass
class Listing:
    """One price listing as a parser saw it, before the shared normalization."""

    provider: str
    provider_model_id: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    variant: str = ""
    model_hint: str | None = None
    context_length: int | None = None
    quantization: str | None = None
    is_free: bool | None = None
    price_is_tiered: bool = False
    cache_read_usd_per_mtok: float | None = None
    latency_ms: float | None = None
    throughput_tps: float | None = None
    uptime_pct: float | None = None


@dataclass
class Rejection:
    """A record the parser could not turn into a listing, kept with the reason."""

    reason: str
    record: object
    provider: str | None = None
    provider_model_id: str | None = None
    failed_check: str = "parse"


@dataclass
class ParsedPayload:
    """Everything one payload yielded: listings and rejected records, tied to the payload's hash."""

    payload: RawPayload
    listings: list[Listing] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


#: A parser: the day's raw payloads in, one ParsedPayload per payload out.
Parser = Callable[[list[RawPayload], date], Iterable[ParsedPayload]]


@dataclass(frozen=True)
class SourceSpec:
    """A source as the pipeline wires it: its name, its default resource and its parser."""

    name: str
    description: str
    resource: PriceSource
    parse: Parser
    #: A live source serves today's prices only; fetching it for a past day would mislabel them.
    live: bool = True
    #: What a day's single capture is called in `raw/` when it comes from a folder of captures.
    archive_payload_name: str = "payload.json"

    @property
    def resource_key(self) -> str:
        return f"{self.name}_source"


class PriceSource(dg.ConfigurableResource):
    """Base of every source's resource: its config says where to fetch, `fetch` does it."""

    def fetch(self, http: HttpClient, day: date) -> list[RawPayload]:
        raise NotImplementedError


PER_TOKEN_TO_PER_MTOK = Decimal(1_000_000)


class BadPrice(ValueError):
    """A price field that is not a price; the message is the quarantine reason."""


def usd_per_mtok_from_per_token(value: object, field_name: str) -> float:
    """Convert a USD-per-token price (a string like "0.0000001" or a number) to USD per million.

    Decimal arithmetic keeps "0.0000001" -> 0.1 exact instead of 0.09999999999999999.
    OpenRouter's "-1" marks a dynamic (router) price, which is not a price.
    """
    if value is None or value == "":
        raise BadPrice(f"{field_name} is missing")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise BadPrice(f"{field_name}={value!r} is not a number") from None
    if amount == -1:
        raise BadPrice(f"{field_name}=-1 marks a dynamic/variable price, not a price")
    if not amount.is_finite():
        raise BadPrice(f"{field_name}={value!r} is not a finite number")
    return float(amount * PER_TOKEN_TO_PER_MTOK)


def usd_per_mtok(value: object, field_name: str) -> float:
    """Read a price already quoted in USD per million tokens (a JSON number)."""
    if value is None or value == "":
        raise BadPrice(f"{field_name} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadPrice(f"{field_name}={value!r} is not a number")
    try:
        amount = float(value)
    except ValueError:
        raise BadPrice(f"{field_name}={value!r} is not a number") from None
    if amount != amount or amount in (float("inf"), float("-inf")):
        raise BadPrice(f"{field_name}={value!r} is not a finite number")
    return amount
