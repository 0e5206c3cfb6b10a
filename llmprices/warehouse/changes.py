"""What moved between two days of one source's observations: the `changes/` table that alerts are built from.

A day is compared with the latest earlier day that has rows for the same source, not with the calendar day
before: sources miss days, and comparing with an empty day would report every listing as new. Each row says
which day it was compared with (`previous_date`).

Kinds of change, per listing (`LISTING_KEY`) unless said otherwise:
- `price_changed`: listed both days, input or output price differs (exact float comparison; both days'
  prices come from the same exact decimal conversion, so equal prices compare equal);
- `listed` / `delisted`: present on one day only;
- `cheapest_provider_changed`, per `model`: no provider that was cheapest (lowest blended price) on the
  previous day is cheapest on this day. Ties count as all tied providers being cheapest, so a provider
  that merely starts tying does not flap the alert. Free listings are left out: a rate-limited free tier
  is not the price anyone pays at volume. The row names the new cheapest listing (`provider`,
  `provider_model_id`, `variant`; ties broken by name) and the old one's provider (`previous_provider`).

`change_id` hashes what the change is about (source, day, kind, and the listing, or the model for
`cheapest_provider_changed`), not the prices or the day compared with: re-computing a day after a parser
fix or a back-filled gap yields the same ids, so alerts already sent for it are not sent again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from llmprices.lake.store import Lake
from llmprices.lake.tables import CHANGES, LISTING_KEY, OBSERVATIONS

PRICE_CHANGED = "price_changed"
LISTED = "listed"
DELISTED = "delisted"
CHEAPEST_PROVIDER_CHANGED = "cheapest_provider_changed"
KINDS = (PRICE_CHANGED, LISTED, DELISTED, CHEAPEST_PROVIDER_CHANGED)
#: A model no source listed before (a `new_models/` row), alerted like a change; not a row of `changes/`.
NEW_MODEL = "new_model"
ALERT_KINDS = (*KINDS, NEW_MODEL)
#: What a `new_model` change says besides the change columns.
NEW_MODEL_FACTS = ["hf_repo", "open_weights", "params_total_b", "params_active_b", "params_source", "sources"]

#: Columns of the frame `changes_between` returns (the file columns plus the hive ones).
CHANGE_COLUMNS = ["snapshot_date", "source", *CHANGES.schema.names]

_SIDES = ("old", "new")
_PRICES = ["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]


def changes_between(
    current: pd.DataFrame,
    previous: pd.DataFrame | None,
    snapshot_date: date,
    previous_date: date | None,
    *,
    source: str,
) -> pd.DataFrame:
    """Every change of one source from `previous_date` to `snapshot_date`, one row each (`CHANGE_COLUMNS`).

    `current` and `previous` are that source's observations (the `observations/` columns). With no
    previous day there is nothing to compare with, so no changes (not every listing as `listed`). An empty
    `current` would report every listing `delisted`: a day whose source broke should not get here (the
    blocking `row_count_vs_previous` check stops it downstream).
    """
    if previous is None:
        return _frame(None, snapshot_date, previous_date, source)
    if previous_date is None:
        raise ValueError("previous_date is required when previous observations are given")
    old, new = _listings(previous, "previous"), _listings(current, "current")
    merged = old.merge(new, on=LISTING_KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    merged["model"] = merged["model_new"].fillna(merged["model_old"])
    both = merged["_merge"] == "both"
    moved = both & (
        (merged["input_usd_per_mtok_old"] != merged["input_usd_per_mtok_new"])
        | (merged["output_usd_per_mtok_old"] != merged["output_usd_per_mtok_new"])
    )
    parts = [
        merged[moved].assign(kind=PRICE_CHANGED),
        merged[merged["_merge"] == "right_only"].assign(kind=LISTED),
        merged[merged["_merge"] == "left_only"].assign(kind=DELISTED),
        _cheapest_provider_changes(old, new),
    ]
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    return _frame(rows, snapshot_date, previous_date, source)


def previous_day_with_data(lake: Lake, source: str, day: date) -> date | None:
    """The latest day before `day` whose `observations/` partition of `source` has rows (gaps are skipped)."""
    for candidate in reversed([d for d in lake.partition_values(OBSERVATIONS) if d < day.isoformat()]):
        if lake.row_count(OBSERVATIONS, OBSERVATIONS.partition(snapshot_date=candidate, source=source)):
            return date.fromisoformat(candidate)
    return None


def changes_table(frame: pd.DataFrame) -> pa.Table:
    """A `changes_between` frame as the `changes/` file of its partition (hive columns dropped)."""
    return pa.Table.from_pandas(frame[CHANGES.schema.names], schema=CHANGES.schema, preserve_index=False)


def change_id(source: str, snapshot_date: date, kind: str, *subject: str) -> str:
    """A stable id of a change: what it is about, never its prices (see the module docstring)."""
    identity = json.dumps([source, snapshot_date.isoformat(), kind, *subject])
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def new_model_changes(new_models: pd.DataFrame) -> pd.DataFrame:
    """`new_models/` rows (with `snapshot_date`) as changes of kind `new_model`, for the alert rules: the
    change columns (the model's cheapest listing that day as the listing, its price as the new price) and
    `NEW_MODEL_FACTS`. The id hashes the model and the day only, so it stays the same whichever source
    lists the model first, and however often the day is recomputed."""
    frame = pd.DataFrame(
        {
            "snapshot_date": new_models["snapshot_date"],
            "source": new_models["source"],
            "previous_date": None,
            "kind": NEW_MODEL,
            "model": new_models["model"],
            "provider": new_models["provider"],
            "provider_model_id": new_models["provider_model_id"],
            "variant": "",
            "previous_provider": None,
            **{f"old_{price}": float("nan") for price in _PRICES},
            **{f"new_{price}": new_models[price].astype("float64") for price in _PRICES},
            "relative_change": float("nan"),
            "change_id": [
                change_id("new_models", day, NEW_MODEL, model)
                for day, model in zip(new_models["snapshot_date"], new_models["model"], strict=True)
            ],
        },
        index=new_models.index,
    )
    return pd.concat([frame[CHANGE_COLUMNS], new_models[NEW_MODEL_FACTS]], axis=1).reset_index(drop=True)


def _listings(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    listings = frame[[*LISTING_KEY, "model", "is_free", *_PRICES]].reset_index(drop=True)
    duplicated = listings.duplicated(LISTING_KEY)
    if duplicated.any():
        example = listings.loc[duplicated, LISTING_KEY].iloc[0].tolist()
        raise ValueError(f"{name} observations repeat listing keys {LISTING_KEY}, e.g. {example}")
    return listings


def _cheapest_provider_changes(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    old_cheapest, new_cheapest = _cheapest(old), _cheapest(new)
    joined = old_cheapest.join(new_cheapest, how="inner", lsuffix="_old", rsuffix="_new")
    disjoint = [a.isdisjoint(b) for a, b in zip(joined["tied_old"], joined["tied_new"], strict=True)]
    changed = joined.loc[np.array(disjoint, dtype=bool)]
    return pd.DataFrame(
        {
            "kind": CHEAPEST_PROVIDER_CHANGED,
            "model": changed.index,
            **{key: changed[f"{key}_new"] for key in LISTING_KEY},
            "previous_provider": changed["provider_old"],
            **{f"{price}_{side}": changed[f"{price}_{side}"] for price in _PRICES for side in _SIDES},
        }
    ).reset_index(drop=True)


def _cheapest(listings: pd.DataFrame) -> pd.DataFrame:
    """Per model: the cheapest paid listing (ties broken by name) and the set of providers tied for it."""
    paid = listings[~listings["is_free"].astype(bool)]
    lowest = paid.groupby("model")["blended_usd_per_mtok"].transform("min")
    tied = paid[paid["blended_usd_per_mtok"] == lowest].sort_values(["model", *LISTING_KEY])
    first = tied.drop_duplicates("model").set_index("model")
    first["tied"] = tied.groupby("model")["provider"].agg(frozenset)
    return first[[*LISTING_KEY, *_PRICES, "tied"]]


def _frame(rows: pd.DataFrame | None, snapshot_date: date, previous_date: date | None, source: str) -> pd.DataFrame:
    if rows is None:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in CHANGE_COLUMNS})
    old_blend, new_blend = rows["blended_usd_per_mtok_old"], rows["blended_usd_per_mtok_new"]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = (new_blend - old_blend) / old_blend
    frame = pd.DataFrame(
        {
            "snapshot_date": snapshot_date,
            "source": source,
            "previous_date": previous_date,
            "kind": rows["kind"],
            "model": rows["model"],
            **{key: rows[key] for key in LISTING_KEY},
            "previous_provider": rows.get("previous_provider"),
            **{f"{side}_{price}": rows[f"{price}_{side}"].astype("float64") for price in _PRICES for side in _SIDES},
            "relative_change": relative.astype("float64"),
        }
    )
    frame["previous_provider"] = (
        frame["previous_provider"].astype(object).where(frame["previous_provider"].notna(), None)
    )
    frame["change_id"] = [
        change_id(source, snapshot_date, kind, model)
        if kind == CHEAPEST_PROVIDER_CHANGED
        else change_id(source, snapshot_date, kind, provider, provider_model_id, variant)
        for kind, model, provider, provider_model_id, variant in zip(
            frame["kind"], frame["model"], frame["provider"], frame["provider_model_id"], frame["variant"], strict=True
        )
    ]
    order = {kind: i for i, kind in enumerate(KINDS)}
    frame = frame.sort_values(["kind", "model", *LISTING_KEY], key=lambda c: c.map(order) if c.name == "kind" else c)
    return frame[CHANGE_COLUMNS].reset_index(drop=True)


def _dtype(column: str) -> str:
    return "float64" if column.endswith("_usd_per_mtok") or column == "relative_change" else "object"
