"""The proxy for months without per-provider prices: OpenRouter's own list price of a model.

Before LiteLLM's first capture (2025-02-06) the shared history has no per-provider price at all, only
OpenRouter's `/models`: one price per model, the router's. OpenRouter lists a model at the price of the endpoint
it routes to by default, so the proxy reads it as "the cheapest price on OpenRouter" for the model. How often
that equals the cheapest independent provider is measured, not assumed (`proxy_agreement`, on every day both
exist; docs/trust-rules.md gives the figures): the curated lists miss the cheapest hosts, so OpenRouter is
often *cheaper* than every listed provider, and a proxy month sits below the per-provider months after it.

Providers cannot be counted on a router's list, so a model enters a proxy month's fit only if it had the trend's
provider floor in its first per-provider month (`first_market_size`): the market's structure taken from the
nearest month that shows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from llmprices.sources.base import RESALE

ROUTER_PROXY = "router_proxy"
PER_PROVIDER = "per_provider"


#: The router whose own list prices the proxy months, and the observation columns `router_list_prices` reads.
ROUTER_SOURCE = "openrouter"
ROUTER_LIST_COLUMNS = ["snapshot_date", "source", "provider", "model", "model_matched", "model_variant", "is_free",
                       "input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]  # fmt: skip


def router_list_prices(observations: pd.DataFrame, router_source: str = ROUTER_SOURCE) -> pd.DataFrame:
    """The router's own price per (day, model): its plain paid listing (no `:free`, `:nitro`, ... variant), the
    cheapest if several ids map to the model. Columns: snapshot_date, model, provider, source, input, output,
    blended (the `spread_prices` columns)."""
    rows = observations[
        observations["source"].eq(router_source)
        & observations["model_matched"].astype(bool)
        & observations["model_variant"].fillna("").eq("")
        & ~observations["is_free"].astype(bool)
        & observations["blended_usd_per_mtok"].gt(0)
    ]
    rows = rows.sort_values("blended_usd_per_mtok").drop_duplicates(["snapshot_date", "model"])
    return pd.DataFrame(
        {
            "snapshot_date": rows["snapshot_date"],
            "model": rows["model"],
            "provider": rows["provider"],
            "source": rows["source"],
            "input": rows["input_usd_per_mtok"],
            "output": rows["output_usd_per_mtok"],
            "blended": rows["blended_usd_per_mtok"],
        }
    ).sort_values(["snapshot_date", "model"], ignore_index=True)


def has_independent_rows(observations: pd.DataFrame) -> bool:
    """Whether the observations hold a listing that is not resale (a per-provider source's)."""
    return bool(observations["offer_kind"].ne(RESALE).any())


def first_market_size(per_provider_month_prices: pd.DataFrame) -> pd.Series:
    """Per model, its median daily provider count in the first month per-provider prices show it."""
    first = per_provider_month_prices.sort_values("month").drop_duplicates("model")
    return first.set_index("model")["n_providers"]


def proxy_model_prices(router_month_prices: pd.DataFrame, market_size: pd.Series) -> pd.DataFrame:
    """A proxy month's model prices (`monthly_model_prices` of the router's list), `n_providers` being the
    model's `first_market_size` (NaN when per-provider prices never show it), `basis` `router_proxy`."""
    return router_month_prices.assign(n_providers=router_month_prices["model"].map(market_size).astype(float),
                                      basis=ROUTER_PROXY)  # fmt: skip


def proxy_agreement(router_prices: pd.DataFrame, provider_prices: pd.DataFrame, rtol: float = 0.01,
                    atol: float = 0.01) -> pd.DataFrame:  # fmt: skip
    """Per (day, model) priced by both: the router's list price against the cheapest independent provider's
    the same day. `provider_prices`: what a spread counts that day (`spread_prices`), captured that day (not
    carried). Columns: snapshot_date, model, router_price, min_price, n_providers, cheapest_provider, ratio,
    outcome (`equal` within `rtol` or `atol` USD, `router_cheaper`, `router_dearer`)."""
    cheapest = provider_prices.sort_values(["blended", "provider"]).groupby(["snapshot_date", "model"], as_index=False)
    market = cheapest.agg(min_price=("blended", "first"), cheapest_provider=("provider", "first"),
                          n_providers=("provider", "nunique"))  # fmt: skip
    router = router_prices[["snapshot_date", "model", "blended"]].rename(columns={"blended": "router_price"})
    both = router.merge(market, on=["snapshot_date", "model"])
    equal = np.isclose(both["router_price"], both["min_price"], rtol=rtol, atol=atol)
    outcome = np.where(
        equal, "equal", np.where(both["router_price"] < both["min_price"], "router_cheaper", "router_dearer")
    )
    return both.assign(ratio=both["router_price"] / both["min_price"], outcome=outcome)


def summarize_agreement(agreement: pd.DataFrame) -> dict:
    """Pairs, days, models, and the share of each outcome, with the median router/cheapest ratio."""
    shares = agreement["outcome"].value_counts(normalize=True)
    return {
        "pairs": len(agreement),
        "days": int(agreement["snapshot_date"].nunique()),
        "models": int(agreement["model"].nunique()),
        **{outcome: float(shares.get(outcome, 0.0)) for outcome in ("equal", "router_cheaper", "router_dearer")},
        "median_ratio": float(agreement["ratio"].median()) if len(agreement) else np.nan,
    }
