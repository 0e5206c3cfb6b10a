"""`order_violation`: a provider charging less for a larger dense sibling than for a smaller one.

Siblings are one creator's own dense checkpoints of one catalog family (Llama 3.1 8B / 70B / 405B;
`checkpoints.creator_checkpoints`), priced by one provider in one source on one day: the larger at least 1.5x
the size and cheaper, or at least 4x the size and priced the same (Groq's retired `llama-3.1-405b-reasoning`
at the price of its `llama-3.1-70b-versatile`). Distill families are not siblings: they mix base
architectures, and Nscale truly prices R1-Distill-Llama-8B below R1-Distill-Qwen-1.5B. Of a violating pair,
the row farther (in log price) from the median of the model's other providers that day is flagged; both when
either has no such median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from llmprices.trust.checkpoints import creator_checkpoints
from llmprices.trust.config import TrustConfig
from llmprices.trust.frames import comparable, fmt, no_reason


def order_reasons(
    frame: pd.DataFrame, catalog: pd.DataFrame, reference: pd.DataFrame, config: TrustConfig
) -> pd.Series:
    """Per row of a prepared frame: why it breaks the size order of its provider's prices, or ""."""
    reasons = no_reason(frame)
    checkpoints = creator_checkpoints(catalog)
    siblings = checkpoints.loc[checkpoints["creator_checkpoint"], ["model", "family", "params_total_b"]]
    siblings = siblings.assign(size_b=pd.to_numeric(siblings["params_total_b"]).astype(float))
    keep = comparable(frame) & frame["model_variant"].eq("")
    rows = frame.loc[keep, ["snapshot_date", "source", "provider", "model", "blended_usd_per_mtok"]].reset_index()
    rows = rows.merge(siblings[["model", "family", "size_b"]], on="model")
    if rows.empty:
        return reasons
    # one price per (day, source, provider, model): its cheapest listing
    rows = rows.sort_values("blended_usd_per_mtok").drop_duplicates(["snapshot_date", "source", "provider", "model"])
    day_model_provider = ["snapshot_date", "model", "provider"]
    rows = rows.merge(reference[[*day_model_provider, "ref"]], on=day_model_provider, how="left")
    rows["distance"] = np.abs(np.log(rows["blended_usd_per_mtok"] / rows["ref"]))
    pairs = rows.merge(rows, on=["snapshot_date", "source", "provider", "family"], suffixes=("", "_small"))
    pairs = pairs[pairs["size_b"].ge(config.order_min_size_ratio * pairs["size_b_small"])]
    price, small_price = pairs["blended_usd_per_mtok"], pairs["blended_usd_per_mtok_small"]
    same = np.isclose(price, small_price, rtol=1e-9, atol=0)
    cheaper = price.lt(small_price) & ~same
    equal = same & pairs["size_b"].ge(config.order_equal_min_size_ratio * pairs["size_b_small"])
    bad = pairs[cheaper | equal]
    if bad.empty:
        return reasons
    why = (
        "order: "
        + bad["model"]
        + " ("
        + fmt(bad["size_b"], "{:g}B")
        + ") at "
        + fmt(bad["blended_usd_per_mtok"], "{:g}")
        + np.where(cheaper[bad.index], " < ", " = ")
        + bad["model_small"]
        + " ("
        + fmt(bad["size_b_small"], "{:g}B")
        + ") at "
        + fmt(bad["blended_usd_per_mtok_small"], "{:g}")
        + " at "
        + bad["provider"]
        + " in "
        + bad["source"]
    )
    unknown = bad["distance"].isna() | bad["distance_small"].isna()
    large_farther = bad["distance"].ge(bad["distance_small"])
    blamed = pd.concat(
        [
            pd.DataFrame({"row": bad.loc[unknown | large_farther, "index"], "why": why[unknown | large_farther]}),
            pd.DataFrame(
                {"row": bad.loc[unknown | ~large_farther, "index_small"], "why": why[unknown | ~large_farther]}
            ),
        ]
    )
    # a row that breaks the order with several siblings gets one reason, the same whatever the rows' order
    blamed = blamed.sort_values(["row", "why"]).drop_duplicates("row")
    reasons.loc[blamed["row"]] = blamed["why"].to_numpy()
    return reasons
