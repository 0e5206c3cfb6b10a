"""The observation frame the trust rules read, and the few facts about it they share."""

from __future__ import annotations

import numpy as np
import pandas as pd

from llmprices.sources.base import RESALE
from llmprices.trust.sellers import offer_kinds

#: Identifies a listing in a source's history (the lake's listing key within a source).
LISTING = ["source", "provider", "provider_model_id", "variant"]
#: A listing's daily price as the spike rule follows it (a canonical model may be listed under several ids).
DAILY_LISTING = ["source", "provider", "model", "model_variant", "variant"]


def prepare(observations: pd.DataFrame) -> pd.DataFrame:
    """The observations as the rules read them: dates as Timestamps, empty strings for missing variants, and
    `offer_kind` filled for rows landed before the column existed. The index is kept (flags align on it)."""
    frame = observations.copy()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    for column in ("deprecation_date",):
        frame[column] = pd.to_datetime(frame[column]) if column in frame else pd.NaT
    for column in ("variant", "model_variant"):
        frame[column] = frame[column].fillna("").astype(str)
    for column in ("input_usd_per_mchar", "output_usd_per_mchar", "router_id_share"):
        frame[column] = pd.to_numeric(frame[column]).astype(float) if column in frame else np.nan
    kinds = frame["offer_kind"] if "offer_kind" in frame else pd.Series(None, index=frame.index, dtype=object)
    frame["offer_kind"] = kinds.astype(object).where(kinds.notna(), offer_kinds(frame["source"], frame["provider"]))
    frame["model_matched"] = frame["model_matched"].astype(bool)
    frame["is_free"] = frame["is_free"].astype(bool)
    return frame


def comparable(frame: pd.DataFrame) -> pd.Series:
    """Rows whose price can be compared with other providers': paid, independent (not resale), with a
    canonical model."""
    return (
        frame["blended_usd_per_mtok"].gt(0)
        & ~frame["is_free"]
        & frame["model_matched"]
        & frame["offer_kind"].ne(RESALE)
    )


def price_since(frame: pd.DataFrame, changes: pd.DataFrame) -> pd.Series:
    """Per row, the snapshot day from which its listing has had this (input, output) price in its source: a
    list that re-priced a listing looked at it more recently than one that did not. `changes`: the days each
    listing's price changed over its whole history (`history.ListingHistory.price_changes`)."""
    day = "snapshot_date"
    rows = frame[[*LISTING, day]].assign(**{day: frame[day].astype("datetime64[ns]")}).reset_index()
    starts = changes[[*LISTING, day]].assign(**{day: changes[day].astype("datetime64[ns]")})
    found = pd.merge_asof(
        rows.sort_values(day), starts.assign(since=starts[day]).sort_values(day), on=day, by=LISTING,
        direction="backward",
    )  # fmt: skip
    return found.set_index("index")["since"].reindex(frame.index)


def carried_forward(rows: pd.DataFrame, days: pd.DatetimeIndex, max_days: int) -> pd.DataFrame:
    """Each source's rows on every day of `days` from their capture until the source's next one (at most
    `max_days` later), with `as_of`, the capture they come from: a list captured on 48 of 193 days still
    states its prices on the days between."""
    frames = []
    for source, captured in rows.groupby("source")["snapshot_date"]:
        captures = pd.DataFrame({"as_of": np.sort(captured.unique())})
        calendar = pd.merge_asof(pd.DataFrame({"snapshot_date": days}), captures, left_on="snapshot_date",
                                 right_on="as_of")  # fmt: skip
        calendar = calendar[(calendar["snapshot_date"] - calendar["as_of"]).dt.days.le(max_days)]
        source_rows = rows[rows["source"].eq(source)].rename(columns={"snapshot_date": "as_of"})
        frames.append(source_rows.merge(calendar, on="as_of"))
    if not frames:
        return rows.assign(as_of=rows["snapshot_date"]).iloc[0:0]
    return pd.concat(frames, ignore_index=True)


def fmt(values: pd.Series, pattern: str) -> pd.Series:
    """Each value formatted, as an object Series that concatenates with strings even when empty."""
    return pd.Series([pattern.format(value) for value in values], index=values.index, dtype=object)


def no_reason(frame: pd.DataFrame) -> pd.Series:
    """A rule's reasons before it raises any: "" for every row."""
    return pd.Series("", index=frame.index, dtype=object)
