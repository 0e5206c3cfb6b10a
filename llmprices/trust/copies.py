"""Router copies filed under a provider's name: curated rows that are a router's resale price.

genai-prices' 2025 snapshots carry chunks of OpenRouter's catalogue inside its `deepseek`, `google` and
`mistral` blocks: ids such as `deepseek-r1-distill-qwen-32b:free` and `gemma-3-27b-it` are OpenRouter's ids
without the `author/` prefix, at OpenRouter's prices, beside the provider's own API ids. A row is such a copy
when its provider block has a share of router-style ids (`router_id_share`, measured by the parser), its id
is a router id without the prefix, and its input and output equal the router's own price of that id (the same
day, or the router's last capture a few days before). Only for open-weight models: for a proprietary model
the router passes its creator's price through, so equality proves nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from llmprices.sources import SOURCES_BY_NAME
from llmprices.sources.base import CURATED, RESALE
from llmprices.trust.config import TrustConfig
from llmprices.trust.frames import fmt, no_reason

#: Sources whose listings are a router's own price list (OpenRouter's `/models`).
ROUTER_LIST_SOURCES = frozenset(name for name, spec in SOURCES_BY_NAME.items() if spec.offer_kind == RESALE)


def router_copy_reasons(frame: pd.DataFrame, open_weight_models: set[str], config: TrustConfig) -> pd.Series:
    """Per row of a prepared frame (`frames.prepare`): why it is a copy of a router's price, or ""."""
    reasons = no_reason(frame)
    candidates = frame[
        frame["router_id_share"].fillna(0).ge(config.copy_min_router_id_share)
        & frame["offer_kind"].eq(CURATED)
        & frame["model"].isin(open_weight_models)
    ]
    router = frame[frame["source"].isin(ROUTER_LIST_SOURCES)]
    if candidates.empty or router.empty:
        return reasons
    router_prices = pd.DataFrame(
        {
            "router_day": router["snapshot_date"],
            "router_source": router["source"],
            "slug": router["provider_model_id"].str.lower().str.split("/", n=1).str[-1].astype(str),
            "router_input": router["input_usd_per_mtok"],
            "router_output": router["output_usd_per_mtok"],
        }
    ).sort_values("router_day")
    rows = pd.DataFrame(
        {
            "snapshot_date": candidates["snapshot_date"],
            "slug": candidates["provider_model_id"].str.lower().astype(str),
            "input": candidates["input_usd_per_mtok"],
            "output": candidates["output_usd_per_mtok"],
            "row": candidates.index,
        }
    ).sort_values("snapshot_date")
    matched = pd.merge_asof(
        rows, router_prices, left_on="snapshot_date", right_on="router_day", by="slug", direction="backward",
        tolerance=pd.Timedelta(days=config.copy_lookback_days),
    )  # fmt: skip
    tolerance = {"rtol": config.copy_price_rtol, "atol": 1e-9}
    same = np.isclose(matched["input"], matched["router_input"], **tolerance) & np.isclose(
        matched["output"], matched["router_output"], **tolerance
    )
    copies = matched[same]
    reasons.loc[copies["row"]] = (
        "resale: a copy of "
        + copies["router_source"]
        + "'s own price of "
        + copies["slug"]
        + " ("
        + fmt(copies["router_input"], "{:g}")
        + "/"
        + fmt(copies["router_output"], "{:g}")
        + " on "
        + copies["router_day"].dt.strftime("%Y-%m-%d")
        + ") in a block of router ids"
    ).to_numpy()
    return reasons
