"""What stands behind a price trend: how many times prices actually moved.

A curated list that never re-prices a listing gives a model a flat series and an annual decline factor of
exactly 1.00, which says the inputs never changed, not that prices did not. So each month's model prices count
the repricings behind them (`price_changes`: a provider's price changed from one day to the next in the same
source; a switch of the reconciled source is not a repricing) and the moves of a live source's price over the
same days (`live_changes`: OpenRouter's own list, captured from its API: a router's price, so it never enters a
factor, but it shows whether the market moved), and the annual decline says which evidence it has:

- `price_changes`: a provider of the model re-priced it;
- `entry_exit_only`: its monthly price moved only because providers came and went (often a list *adding* one);
- `frozen_inputs`: only the live router price moved: the lists did not follow the market (no factor);
- `no_evidence`: nothing moved anywhere (no factor, rather than 1.00).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from llmprices.analysis.trends import DECLINE_COLUMNS, annual_decline

NO_FACTOR = ("frozen_inputs", "no_evidence")
EVIDENCE_COLUMNS = ["n_price_changes", "n_min_changes", "n_live_changes", "evidence"]


def price_changes(prices: pd.DataFrame, first_day, last_day) -> pd.Series:
    """Per model: days from `first_day` to `last_day` on which one of its providers' prices differs from that
    provider's previous day with a price (the days before `first_day` only give the previous price), in the
    same source. `prices`: rows with snapshot_date, model, provider, source, blended (one per day, model and
    provider, as `spread_prices` gives them)."""
    ordered = prices.sort_values("snapshot_date", kind="stable")
    previous = ordered.groupby(["model", "provider"])[["blended", "source"]].shift()
    changed = (
        previous["blended"].notna()
        & ~np.isclose(ordered["blended"], previous["blended"], rtol=1e-6, atol=0)
        & ordered["source"].eq(previous["source"])
    )
    in_range = ordered["snapshot_date"].between(first_day, last_day)
    return changed[in_range].groupby(ordered.loc[in_range, "model"]).sum().astype(int)


def annual_decline_with_evidence(model_prices: pd.DataFrame, min_months: int = 6) -> pd.DataFrame:
    """`trends.annual_decline` over months of per-provider prices, with `EVIDENCE_COLUMNS`; no factor (NaN)
    where the evidence is `frozen_inputs` or `no_evidence`. `model_prices`: `trends/model_prices` rows of every
    month so far (month, model, price, n_price_changes, n_live_changes)."""
    decline = annual_decline(model_prices, min_months)
    ordered = model_prices[model_prices["price"] > 0].sort_values("month")
    previous = ordered.groupby("model")["price"].shift()
    moved = previous.notna() & ~np.isclose(ordered["price"], previous, rtol=1e-6, atol=0)
    totals = ordered.groupby("model")[["n_price_changes", "n_live_changes"]].sum()
    decline["n_price_changes"] = decline["model"].map(totals["n_price_changes"]).fillna(0).astype("int64")
    decline["n_min_changes"] = decline["model"].map(moved.groupby(ordered["model"]).sum()).fillna(0).astype("int64")
    decline["n_live_changes"] = decline["model"].map(totals["n_live_changes"]).fillna(0).astype("int64")
    decline["evidence"] = np.select(
        [decline["n_price_changes"].gt(0), decline["n_min_changes"].gt(0), decline["n_live_changes"].gt(0)],
        ["price_changes", "entry_exit_only", "frozen_inputs"],
        "no_evidence",
    )
    no_factor = decline["evidence"].isin(NO_FACTOR)
    decline.loc[no_factor, ["slope_per_year", "factor", "factor_low", "factor_high"]] = np.nan
    return decline[[*DECLINE_COLUMNS, *EVIDENCE_COLUMNS]]
