"""Who is selling: a provider's own price, a marketplace's listing, a curated list's entry, or a router's resale.

Each source declares what its listings are (`SourceSpec.offer_kind`): OpenRouter's `/models` is the router's
own list (resale), its `/endpoints` and the Hugging Face router are marketplaces listing each provider's price,
LiteLLM, genai-prices, ArtificialAnalysis and CSV imports are curated lists, a provider's pricing page is
first-party. Whatever the source, a listing whose provider is a router or a gateway is resale: curated lists
copy routers too (genai-prices' provider `openrouter`, LiteLLM's `openrouter/...` and `vercel_ai_gateway/...`).

The routers and gateways are a table users extend without code: `routers.csv` beside this module (provider,
kind, name, evidence), plus the lines of the CSV that `$LLMPRICES_ROUTERS_FILE` names, if set.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd

from llmprices.sources import SOURCES_BY_NAME
from llmprices.sources.base import CURATED, RESALE
from llmprices.sources.providers import canonical_provider

ROUTERS_CSV = Path(__file__).with_name("routers.csv")
ROUTERS_FILE_ENV = "LLMPRICES_ROUTERS_FILE"


def load_routers(extra_file: str | Path | None = None) -> pd.DataFrame:
    """The shipped routers table, plus `extra_file`'s lines (same columns); providers as canonical slugs."""
    frames = [pd.read_csv(ROUTERS_CSV, dtype=str)]
    if extra_file:
        frames.append(pd.read_csv(extra_file, dtype=str))
    routers = pd.concat(frames, ignore_index=True)
    routers["provider"] = routers["provider"].map(canonical_provider)
    return routers.drop_duplicates("provider", keep="last").reset_index(drop=True)


@cache
def _router_slugs(extra_file: str | None) -> frozenset[str]:
    return frozenset(load_routers(extra_file)["provider"])


def router_providers() -> frozenset[str]:
    """The canonical slugs of every router and gateway (the shipped table and `$LLMPRICES_ROUTERS_FILE`)."""
    return _router_slugs(os.environ.get(ROUTERS_FILE_ENV) or None)


def offer_kind(source_kind: str, provider: str) -> str:
    """A listing's kind of offer: resale when its provider is a router, else what its source lists."""
    return RESALE if provider in router_providers() else source_kind


def offer_kinds(sources: pd.Series, providers: pd.Series) -> pd.Series:
    """`offer_kind` of each row from its source's name and its provider: for observations landed before the
    column existed (they read it as null)."""
    by_source = {name: spec.offer_kind for name, spec in SOURCES_BY_NAME.items()}
    kinds = sources.map(by_source).fillna(CURATED).astype(object)
    return kinds.mask(providers.isin(router_providers()), RESALE)
