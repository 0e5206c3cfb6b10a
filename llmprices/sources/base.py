"""What every price source provides: a fetch (a module function taking the HTTP client and the source's
settings) and an offline parse.

The parser turns the payloads kept in the lake's `raw/` area into listings, so re-parsing a past day never
touches the network. Where to fetch from is the source's settings, which the Dagster code location turns
into a configurable resource (`pipeline/resources.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from llmprices.payloads import RawPayload


class PayloadError(Exception):
    """A payload that is not in the source's format at all (not JSON, top-level shape changed)."""


class SourceNotConfigured(Exception):
    """The source needs settings the user has not given (e.g. an API key); skip it, do not fail."""


#: Who is selling, per listing (`observations.offer_kind`): a provider's own price (its page or API) ...
FIRST_PARTY = "first_party"
#: ... a marketplace's per-provider listing (OpenRouter endpoints, the Hugging Face router) ...
MARKETPLACE = "marketplace"
#: ... a curated list's entry for a provider (LiteLLM, genai-prices, ArtificialAnalysis, a CSV import) ...
CURATED = "curated"
#: ... or a router's or gateway's own price (OpenRouter's list, a gateway, any curated copy of them): someone
#: else's price plus a fee, never a provider's price (`llmprices.trust.sellers`).
RESALE = "resale"
OFFER_KINDS = (FIRST_PARTY, MARKETPLACE, CURATED, RESALE)


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
    #: what the source says of the listing, for the trust rules (`llmprices.trust`): the day it retires
    #: (often a planned, future date) ...
    deprecation_date: date | None = None
    #: ... a price per million characters (Google's PaLM-era models), to catch it typed as per token ...
    input_usd_per_mchar: float | None = None
    output_usd_per_mchar: float | None = None
    #: ... and the share of its provider block's ids in a router's own id style (`:free`, `:extended`): a block
    #: copied from a router's catalogue
    router_id_share: float | None = None


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
    """A source as the pipeline wires it: its name, what it is, and its parser."""

    name: str
    description: str
    parse: Parser
    #: A live source serves today's prices only; fetching it for a past day would mislabel them.
    live: bool = True
    #: What a day's single capture is called in `raw/` when it comes from a folder of captures.
    archive_payload_name: str = "payload.json"
    #: What kind of offer its listings are (`OFFER_KINDS`); a router's listings are resale whatever the source.
    offer_kind: str = CURATED
