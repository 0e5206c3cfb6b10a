"""`stale`: a listing sold no more, or not at this price, that a curated list still carries.

A row is stale on its snapshot day when, by that day:
1. a source's *latest* statement for the same provider and API id (routing prefix and URL encoding removed)
   dates its deprecation: its own source (LiteLLM `deprecation_date`, genai-prices `deprecated`) or another
   one (LiteLLM dates Groq's `llama-3.1-70b-versatile`, which genai-prices still lists in December). The
   latest statement wins: LiteLLM dated Claude 3.7 Sonnet 2025-06-01 for three days, then 2026-02-01;
2. the retirements table says so (`retirements.csv`: provider notices the sources do not carry, each with its
   evidence; `*` retires a whole provider; users add lines there or in `$LLMPRICES_RETIREMENTS_FILE`);
3. a source keyed by the exact API ids a provider serves (LiteLLM: its keys are routes that must work) dropped
   the provider's model for good while still listing that provider, and this listing's price was not updated
   since. genai-prices keys listings by match patterns and consolidates them (`command-r-08-2024` folded into
   `command-r`), so its drops are no evidence.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import numpy as np
import pandas as pd

from llmprices.sources.providers import canonical_provider
from llmprices.trust.config import TrustConfig
from llmprices.trust.frames import no_reason

if TYPE_CHECKING:
    from llmprices.trust.history import ListingHistory

RETIREMENTS_CSV = Path(__file__).with_name("retirements.csv")
RETIREMENTS_FILE_ENV = "LLMPRICES_RETIREMENTS_FILE"
#: Sources whose listings are keyed by the exact API id a provider serves: a drop there is evidence.
EXACT_ID_SOURCES = frozenset({"litellm", "openrouter_endpoints", "huggingface", "html"})


def load_retirements(extra_file: str | Path | None = None) -> pd.DataFrame:
    """The shipped retirements table (provider, provider_model_id or `*`, retired_on, evidence), plus the lines
    of `extra_file` (default `$LLMPRICES_RETIREMENTS_FILE`, if set)."""
    extra_file = extra_file or os.environ.get(RETIREMENTS_FILE_ENV)
    frames = [pd.read_csv(RETIREMENTS_CSV, dtype=str)]
    if extra_file:
        frames.append(pd.read_csv(extra_file, dtype=str))
    table = pd.concat(frames, ignore_index=True)
    table["provider"] = table["provider"].map(canonical_provider)
    table["provider_model_id"] = table["provider_model_id"].str.strip().str.lower()
    table["retired_on"] = pd.to_datetime(table["retired_on"])
    return table


def api_ids(frame: pd.DataFrame) -> pd.Series:
    """What is sold, where-it-is-sold removed: `groq/llama-3.1-70b-versatile` at Groq -> `llama-3.1-70b-versatile`,
    `meta.llama3-8b-instruct-v1%3A0` -> `meta.llama3-8b-instruct-v1:0`. Decided once per distinct pair."""
    pairs = frame[["provider", "provider_model_id"]].drop_duplicates()
    decided = {
        (provider, model_id): api_id(provider, model_id)
        for provider, model_id in zip(pairs["provider"], pairs["provider_model_id"], strict=True)
    }
    keys = zip(frame["provider"], frame["provider_model_id"], strict=True)
    return pd.Series([decided[key] for key in keys], index=frame.index, dtype=object)


def api_id(provider: str, provider_model_id: str) -> str:
    model_id = unquote(str(provider_model_id)).strip().lower()
    prefix, _, rest = model_id.partition("/")
    return rest if rest and canonical_provider(prefix) == provider else model_id


def stale_reasons(
    frame: pd.DataFrame, retirements: pd.DataFrame, config: TrustConfig, history: ListingHistory
) -> pd.Series:
    """Per row of a prepared frame (`frames.prepare`, with `price_since`): why it is stale, or ""; `history`:
    the facts of the listings' whole history (`history.ListingHistory`)."""
    ids = api_ids(frame)
    reasons = _deprecated(frame, ids, history)
    reasons = _retired(frame, ids, retirements, reasons)
    return _dropped(frame, config, history, reasons)


def _deprecated(frame: pd.DataFrame, ids: pd.Series, history: ListingHistory) -> pd.Series:
    """Rule 1: the earliest date any source's latest statement gives the (provider, API id)."""
    reasons = no_reason(frame)
    keyed = pd.DataFrame(
        {
            "provider": frame["provider"],
            "api_id": ids,
            "source": frame["source"],
            "day": frame["snapshot_date"],
        }
    )
    latest = history.deprecations
    stated = latest.dropna(subset=["date"]).sort_values("date").drop_duplicates(["provider", "api_id"])
    if stated.empty:
        return reasons
    merged = keyed.join(
        stated.set_index(["provider", "api_id"])[["date", "source"]].rename(columns=lambda c: f"stated_{c}"),
        on=["provider", "api_id"],
    )
    hit = merged["stated_date"].notna() & merged["day"].ge(merged["stated_date"])
    hits = merged[hit]
    by = hits["stated_source"].where(hits["stated_source"].ne(hits["source"]), "its own source")
    reasons.loc[hits.index] = ("deprecated " + hits["stated_date"].dt.strftime("%Y-%m-%d") + " per " + by).to_numpy()
    return reasons


def _retired(frame: pd.DataFrame, ids: pd.Series, retirements: pd.DataFrame, reasons: pd.Series) -> pd.Series:
    """Rule 2: the retirements table, where rule 1 said nothing."""
    reasons = reasons.copy()
    for notice in retirements.itertuples(index=False):
        hit = frame["provider"].eq(notice.provider) & frame["snapshot_date"].ge(notice.retired_on) & reasons.eq("")
        if notice.provider_model_id != "*":
            hit &= ids.eq(notice.provider_model_id)
        reasons.loc[hit] = f"retired {notice.retired_on:%Y-%m-%d} per the retirements table"
    return reasons


def _dropped(frame: pd.DataFrame, config: TrustConfig, history: ListingHistory, reasons: pd.Series) -> pd.Series:
    """Rule 3: dropped for good by an exact-id source, where rules 1 and 2 said nothing."""
    keys = ["provider", "model", "model_variant"]
    last_listed = history.last_listed
    if last_listed.empty:
        return reasons
    by_source = history.snapshots.groupby("source")["snapshot_date"]
    snapshots = {source: np.sort(days.unique()) for source, days in by_source}
    covering = history.covering.groupby(["source", "provider"])["snapshot_date"].unique()
    drops = []
    for row in last_listed.itertuples(index=False):
        later = snapshots[row.source][snapshots[row.source] > row.last_listed]
        still_covering = np.intersect1d(later, covering[(row.source, row.provider)])
        if len(still_covering) >= config.delist_min_later_snapshots:
            drops.append((row.source, row.provider, row.model, row.model_variant, still_covering.min()))
    if not drops:
        return reasons
    dropped = pd.DataFrame(drops, columns=["dropped_by", *keys, "dropped_on"])
    listed = frame[["source", *keys, "snapshot_date", "price_since"]].reset_index()
    hits = listed.merge(dropped, on=keys)
    hits = hits[
        hits["dropped_by"].ne(hits["source"])
        & hits["snapshot_date"].ge(hits["dropped_on"])
        & hits["price_since"].lt(hits["dropped_on"])
    ]
    hits = hits.sort_values("dropped_on").drop_duplicates("index")
    hits = hits[reasons.loc[hits["index"]].eq("").to_numpy()]
    reasons = reasons.copy()
    reasons.loc[hits["index"]] = (
        "dropped by "
        + hits["dropped_by"]
        + " from "
        + hits["dropped_on"].dt.strftime("%Y-%m-%d")
        + "; not re-priced here since"
    ).to_numpy()
    return reasons
