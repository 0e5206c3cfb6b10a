"""`history/`: every listing's price over time as intervals, the slowly changing dimension (type 2) a
warehouse user expects next to the daily snapshots.

One row per listing (source, provider, provider_model_id, variant) and stretch of days at one price:
`valid_from` is the stretch's first day; `valid_to` is the first later day on which the source reported
the listing at another price (or matched to another model) or did not report it at all; null while the
listing is current. Only days with rows of that source count: a day the source was not fetched (a gap)
neither ends nor starts an interval, as in `changes/`. So on every day a source has data, its intervals
valid that day (`valid_from <= day < valid_to`) are exactly that day's observations.

The table is rebuilt from every observation each time, so a daily run keeps it current and a backfill of
any range gives exactly the same rows.
"""

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from llmprices.lake.tables import HISTORY, HISTORY_PRICES, LISTING_KEY

#: What a new interval starts on: prices compare exactly (they come from one exact decimal conversion).
TRACKED = ["model", *HISTORY_PRICES]
KEY = ["source", *LISTING_KEY]
HISTORY_COLUMNS = ["source", *HISTORY.schema.names]


def history_intervals(observations: pd.DataFrame) -> pd.DataFrame:
    """The intervals (`HISTORY_COLUMNS`, sorted by listing and `valid_from`) of observations with
    `snapshot_date` and `source`. Vectorized: one sort, then each row is compared with the one before."""
    rows = observations[["snapshot_date", *KEY, *TRACKED]]
    repeated = rows.duplicated(["snapshot_date", *KEY])
    if repeated.any():
        example = rows.loc[repeated, ["snapshot_date", *KEY]].iloc[0].tolist()
        raise ValueError(f"observations repeat a listing on one day, e.g. {example}")
    days = rows[["source", "snapshot_date"]].drop_duplicates().sort_values(["source", "snapshot_date"])
    days["day_n"] = days.groupby("source").cumcount()  # the n-th day with data of its source
    rows = rows.merge(days, on=["source", "snapshot_date"]).sort_values([*KEY, "snapshot_date"], ignore_index=True)

    day_n = rows["day_n"].to_numpy()
    next_data_day = np.zeros(len(rows), dtype=bool)
    next_data_day[1:] = day_n[1:] == day_n[:-1] + 1
    starts = ~(next_data_day & _same_as_previous(rows, [*KEY, *TRACKED]))  # of an interval
    ends = np.ones_like(starts)
    ends[:-1] = starts[1:]

    intervals = rows.loc[starts, [*KEY, *TRACKED, "snapshot_date"]].rename(columns={"snapshot_date": "valid_from"})
    intervals["day_n"] = day_n[ends] + 1  # the source's first data day after the interval's last
    ends_on = days.rename(columns={"snapshot_date": "valid_to"})
    intervals = intervals.merge(ends_on, on=["source", "day_n"], how="left")
    intervals["valid_to"] = intervals["valid_to"].astype(object).where(intervals["valid_to"].notna(), None)
    return intervals[HISTORY_COLUMNS]


def _same_as_previous(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Per row: whether every column equals the previous row's (False for the first row)."""
    same = np.ones(len(frame), dtype=bool)
    for column in columns:
        values = frame[column].to_numpy()
        same[1:] &= values[1:] == values[:-1]
    same[:1] = False
    return same


def history_table(intervals: pd.DataFrame) -> pa.Table:
    """One source's intervals as its `history/` file (the hive column `source` dropped)."""
    return pa.Table.from_pandas(intervals[HISTORY.schema.names], schema=HISTORY.schema, preserve_index=False)


def _follows_previous(history: pd.DataFrame) -> np.ndarray:
    """Per interval: whether it starts the day its listing's previous one ends (a change, not a (re)listing)."""
    return _same_as_previous(history, KEY) & (history["valid_from"] == history["valid_to"].shift()).to_numpy()


def history_by_day(history: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    """Per day of `days` (the index): intervals opened and closed that day, and the changes among the opened."""
    index = pd.Index(days, name="day")
    return pd.DataFrame(
        {
            "intervals_opened": history.groupby("valid_from").size().reindex(index, fill_value=0),
            "intervals_closed": history.groupby("valid_to").size().reindex(index, fill_value=0),
            "changes": history[_follows_previous(history)].groupby("valid_from").size().reindex(index, fill_value=0),
        },
        index=index,
    )


def history_summary(history: pd.DataFrame, days: list[date]) -> dict[str, int]:
    """Size of the table, and what moved on `days`: intervals opened and closed, and changes (an interval
    that starts the day its listing's previous one ends: a new price, or a new model match)."""
    opened = history["valid_from"].isin(days)
    follows = _follows_previous(history)
    return {
        "intervals": len(history),
        "open_intervals": int(history["valid_to"].isna().sum()),
        "listings": len(history.drop_duplicates(KEY)),
        "intervals_opened_in_run": int(opened.sum()),
        "intervals_closed_in_run": int(history["valid_to"].isin(days).sum()),
        "changes_in_run": int((opened & follows).sum()),
    }
