"""How often the price rules flag a price that is true: the false-positive estimates docs/trust-rules.md quotes.

Two sets of prices known to be true, each run through the rules beside every other observation:

- **live**: a router's own list captured from its API (OpenRouter's `/models`, twice a day) is what the router
  charged that day, true by construction. Its plain paid rows, on days some independent provider priced the
  model, are relabelled as one more seller (`LIVE_SELLER`, a curated offer) and judged with the rest; every
  price flag on them is a false positive. The router's list is many upstream providers' prices under one name,
  so the two rules that judge one seller's list (`placeholder`, `order_violation`) see coincidences no single
  provider would produce: their rates here are upper bounds.
- **corroborated**: a curated row whose price another curated source states for the same provider, model and
  day (within `TrustConfig.agree_rtol`/`agree_atol` on input and output), neither stale, is taken as true
  unless both copied the same mistake.
"""

from __future__ import annotations

import pandas as pd

from llmprices.sources.base import CURATED, RESALE
from llmprices.trust.config import TrustConfig
from llmprices.trust.flags import flag_observations, flagged_by
from llmprices.trust.frames import prepare

PRICE_RULES = ("placeholder", "unit_slip", "outlier", "order_violation")
#: how each rule's part of a `trust_reason` starts
REASON_PREFIX = {"placeholder": "placeholder:", "unit_slip": "unit slip:", "outlier": "outlier:",
                 "order_violation": "order:"}  # fmt: skip
LIVE_SELLER = "router-live"
RATE_COLUMNS = ["rule", "rows_checked", "flagged", "rate", "examples"]


def live_router_rates(
    observations: pd.DataFrame, catalog: pd.DataFrame, config: TrustConfig | None = None, router: str = "openrouter"
) -> pd.DataFrame:
    """Per price rule (and `any`): the router's live rows checked and how many the rule flags (`RATE_COLUMNS`)."""
    observations = prepare(observations)
    independent = observations[observations["offer_kind"].ne(RESALE)]
    priced = independent[independent["blended_usd_per_mtok"].gt(0) & independent["model_matched"]]
    judged_keys = priced[["snapshot_date", "model"]].drop_duplicates()
    live = observations[
        observations["source"].eq(router)
        & observations["model_matched"]
        & observations["model_variant"].eq("")
        & ~observations["is_free"]
        & observations["blended_usd_per_mtok"].gt(0)
    ].merge(judged_keys, on=["snapshot_date", "model"])
    live = live.assign(offer_kind=CURATED, provider=LIVE_SELLER, source=f"{router}-live")
    flagged = flag_observations(pd.concat([independent, live], ignore_index=True), catalog, config)
    return _rates(flagged[flagged["provider"].eq(LIVE_SELLER)])


def corroborated_rates(flagged: pd.DataFrame, config: TrustConfig | None = None) -> pd.DataFrame:
    """Per price rule (and `any`): the curated rows of a flagged frame (`flag_observations`) another curated
    source corroborates, and how many the rule flags (`RATE_COLUMNS`)."""
    config = config or TrustConfig()
    key = ["snapshot_date", "provider", "model", "model_variant"]
    prices = ["input_usd_per_mtok", "output_usd_per_mtok"]
    curated = flagged[
        flagged["offer_kind"].eq(CURATED)
        & flagged["model_matched"]
        & flagged["blended_usd_per_mtok"].gt(0)
        & ~flagged_by(flagged, "stale")
    ]
    rows = curated[[*key, "source", *prices]].reset_index()
    pairs = rows.merge(rows.drop(columns="index"), on=key, suffixes=("", "_other"))
    pairs = pairs[pairs["source"].ne(pairs["source_other"])]
    agree = pd.Series(True, index=pairs.index)
    for column in prices:
        gap = (pairs[column] - pairs[f"{column}_other"]).abs()
        agree &= gap.le(config.agree_atol) | gap.le(config.agree_rtol * pairs[f"{column}_other"].abs())
    return _rates(flagged.loc[pairs.loc[agree, "index"].unique()])


def _rates(judged: pd.DataFrame) -> pd.DataFrame:
    hits = pd.DataFrame({rule: flagged_by(judged, rule) for rule in PRICE_RULES}, index=judged.index)
    hits["any"] = hits.any(axis=1)
    rows = []
    for rule in hits.columns:
        prefixes = tuple(REASON_PREFIX.values()) if rule == "any" else (REASON_PREFIX[rule],)
        parts = judged.loc[hits[rule], "trust_reason"].str.split("; ").explode()
        reasons = parts[parts.str.startswith(prefixes)].drop_duplicates().head(3)
        rate = float(hits[rule].mean()) if len(judged) else float("nan")
        rows.append((rule, len(judged), int(hits[rule].sum()), rate, " | ".join(reasons)))
    return pd.DataFrame(rows, columns=RATE_COLUMNS)
