"""Every trust rule over a frame of observations: flags with their reasons, kept on the rows, never deleting one.

`flag_observations` returns the observations with
- `offer_kind`: the source's kind of offer, or `resale` for a curated copy of a router's price (`copies`);
- `trust_flags`: the rules the row breaks, comma-joined in `FLAGS` order ("" when it breaks none);
- `trust_reason`: why, one reason per flag, "; "-joined;
- `trusted`: it breaks none.

The rules (`FLAGS`; thresholds in `TrustConfig`, reasoning and one real example each in docs/trust-rules.md):
`resale` (`sellers`, `copies`), `stale` (`stale`), `placeholder`, `unit_slip`, `outlier` (`prices`),
`order_violation` (`order`). They compare rows across sources, providers and days: the frame holds all the
history there is, or some days of it (and their lead-in, `months.window_start`) with the facts of the rest
(`history.ListingHistory`), which give the same flags. A flag may change when later days arrive (a jump that
comes back, a source's newer statement of a deprecation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from llmprices.sources.base import RESALE
from llmprices.trust.config import TrustConfig
from llmprices.trust.frames import no_reason, prepare, price_since
from llmprices.trust.history import ListingHistory, with_copies_marked
from llmprices.trust.order import order_reasons
from llmprices.trust.prices import market_reference, placeholder_reasons, unit_slip_and_outlier_reasons
from llmprices.trust.stale import load_retirements, stale_reasons

FLAGS = ("resale", "stale", "placeholder", "unit_slip", "outlier", "order_violation")
#: What `anomalies` lists of each flagged row.
ANOMALY_COLUMNS = ["snapshot_date", "source", "offer_kind", "provider", "provider_model_id", "variant", "model",
                   "model_variant", "input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok",
                   "trust_flags", "trust_reason"]  # fmt: skip


def flag_observations(
    observations: pd.DataFrame,
    catalog: pd.DataFrame,
    config: TrustConfig | None = None,
    retirements: pd.DataFrame | None = None,
    history: ListingHistory | None = None,
) -> pd.DataFrame:
    """The observations (with `snapshot_date` and `source`) with their flags and `price_since`, on a fresh
    0..n-1 index.

    `catalog`: the model catalog (model, family, creator, params_total_b, is_moe, open_weights, license,
    hf_repo); `retirements`: default the shipped table and `$LLMPRICES_RETIREMENTS_FILE`; `history`: the facts
    of the listings' whole history (`history.gather_history`) when the frame holds only some of its days (and
    the lead-in `months.window_start` gives); default: the frame's own.
    """
    config = config or TrustConfig()
    retirements = load_retirements() if retirements is None else retirements
    frame = with_copies_marked(prepare(observations.reset_index(drop=True)), open_weight_models(catalog), config)
    copies = frame.pop("copy_reason")
    history = ListingHistory.of(frame) if history is None else history
    frame["price_since"] = price_since(frame, history.price_changes)
    reference = market_reference(frame, config.carry_days)
    unit_slip, outlier = unit_slip_and_outlier_reasons(frame, reference, config, history)
    reasons = {
        "resale": _resale_reasons(frame, copies),
        "stale": stale_reasons(frame, retirements, config, history),
        "placeholder": placeholder_reasons(frame, catalog, config),
        "unit_slip": unit_slip,
        "outlier": outlier,
        "order_violation": order_reasons(frame, catalog, reference, config),
    }
    raised = np.column_stack([reasons[flag].ne("").to_numpy() for flag in FLAGS])
    texts = np.column_stack([reasons[flag].to_numpy() for flag in FLAGS])
    names = np.array(FLAGS)
    frame["trust_flags"] = pd.Series([",".join(names[row]) for row in raised], index=frame.index, dtype="str")
    reasons_joined = ["; ".join(text[row]) for row, text in zip(raised, texts, strict=True)]
    frame["trust_reason"] = pd.Series(reasons_joined, index=frame.index, dtype="str")
    frame["trusted"] = ~raised.any(axis=1)
    return frame


def open_weight_models(catalog: pd.DataFrame) -> set[str]:
    """The catalog's open-weight models: the only ones a curated copy of a router's price can be told by."""
    return set(catalog.loc[catalog["open_weights"].astype("boolean").fillna(False), "model"])


def _resale_reasons(frame: pd.DataFrame, copies: pd.Series) -> pd.Series:
    reasons = no_reason(frame)
    resale = frame["offer_kind"].eq(RESALE) & copies.eq("")
    reasons.loc[resale] = (
        "resale: "
        + frame.loc[resale, "provider"]
        + " resells other providers' models (in "
        + frame.loc[resale, "source"]
        + ")"
    )
    return reasons.mask(copies.ne(""), copies)


def anomalies(flagged: pd.DataFrame) -> pd.DataFrame:
    """Every flagged row with its flags and reasons, newest first (the `anomalies` table)."""
    rows = flagged.loc[~flagged["trusted"], ANOMALY_COLUMNS]
    order = ["snapshot_date", "source", "provider", "provider_model_id", "variant"]
    return rows.sort_values(order, ascending=[False, True, True, True, True], ignore_index=True)


def flagged_by(flagged: pd.DataFrame, flag: str) -> pd.Series:
    """Whether each row of a flagged frame carries `flag`."""
    return ("," + flagged["trust_flags"].astype("str") + ",").str.contains(f",{flag},", regex=False)


def flag_counts(flagged: pd.DataFrame) -> pd.DataFrame:
    """Rows flagged per rule (rows) and source (columns), with a `total` column: materialization metadata."""
    counts = pd.DataFrame({flag: flagged_by(flagged, flag) for flag in FLAGS}).groupby(flagged["source"]).sum()
    counts = counts.T.astype(int)
    counts["total"] = counts.sum(axis=1)
    return counts.rename_axis("rule").reset_index()
