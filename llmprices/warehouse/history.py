"""`history/`: every listing's price over time as intervals, the slowly changing dimension (type 2) a
warehouse user expects next to the daily snapshots.

One row per listing (source, provider, provider_model_id, variant) and stretch of days at one price:
`valid_from` is the stretch's first day; `valid_to` is the first later day on which the source reported
the listing at another price (or matched to another model) or did not report it at all; null while the
listing is current. Only days with rows of that source count: a day the source was not fetched (a gap)
neither ends nor starts an interval, as in `changes/`. So on every day a source has data, its intervals
valid that day (`valid_from <= day < valid_to`) are exactly that day's observations.

The table is rebuilt from every observation each time, so a daily run keeps it current and a backfill of
any range gives exactly the same rows. It is rebuilt source by source and, within a source, a chunk of
consecutive days at a time (`source_history`), carrying the intervals still open from one chunk to the next: the
memory it takes is bounded by a chunk and the intervals, never by the whole lake (`benchmarks/bench_scale.py`).
"""

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from llmprices.lake.store import Lake
from llmprices.lake.tables import HISTORY, HISTORY_PRICES, LISTING_KEY, OBSERVATIONS

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


#: Observation rows held at once while a source's history is built from the lake: a small lake's whole history
#: is one chunk (one vectorized pass); a very large one is read a few days at a time.
CHUNK_ROWS = 500_000


def source_history(lake: Lake, source: str, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """One source's intervals, as `history_intervals` gives them for its observations, read from its daily
    partitions (only the columns history needs) in chunks of consecutive days of about `chunk_rows` rows.

    Each chunk is built with the intervals still open at the end of the previous chunk standing in as that
    previous day's rows (the day just before the chunk's first), so a listing unchanged across chunks stays one
    interval and one missing on the chunk's first day ends on it, exactly as in one pass over every day."""
    closed, carried, last_day = [], None, None
    for chunk in _day_chunks(lake, source, chunk_rows):
        rows = chunk if carried is None else pd.concat([_as_rows(carried, last_day), chunk], ignore_index=True)
        intervals = history_intervals(rows)
        if carried is not None:
            intervals = _restore_valid_from(intervals, carried, last_day)
        still_open = intervals["valid_to"].isna()
        closed.append(intervals[~still_open])
        carried, last_day = intervals[still_open], chunk["snapshot_date"].max()
    if carried is None:
        return empty_history()
    history = pd.concat([*closed, carried], ignore_index=True).sort_values([*KEY, "valid_from"], ignore_index=True)
    history["valid_to"] = history["valid_to"].astype(object).where(history["valid_to"].notna(), None)
    return history[HISTORY_COLUMNS]


def empty_history() -> pd.DataFrame:
    """No intervals, with the columns and types of `history_intervals`' answer."""
    return history_intervals(pd.DataFrame(columns=["snapshot_date", *KEY, *TRACKED]))


def _day_chunks(lake: Lake, source: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The source's days with rows, in order, as frames of `snapshot_date`, `KEY` and `TRACKED` holding
    consecutive days and at least `chunk_rows` rows each (the last chunk fewer)."""
    tables, rows = [], 0
    for day, path in sorted(lake.files_with_rows(OBSERVATIONS, source).items()):
        table = pq.read_table(path, columns=[*LISTING_KEY, *TRACKED], filesystem=lake.fs)
        tables.append(table.append_column("snapshot_date", pa.array([day] * table.num_rows, pa.date32())))
        rows += table.num_rows
        if rows >= chunk_rows:
            yield _frame(tables, source)
            tables, rows = [], 0
    if tables:
        yield _frame(tables, source)


def _frame(tables: list[pa.Table], source: str) -> pd.DataFrame:
    return pa.concat_tables(tables).to_pandas().assign(source=source)


def _as_rows(open_intervals: pd.DataFrame, day: date) -> pd.DataFrame:
    """Open intervals as the observations of `day` (their last day) that they stand for."""
    return open_intervals[[*KEY, *TRACKED]].assign(snapshot_date=day)


def _restore_valid_from(intervals: pd.DataFrame, carried: pd.DataFrame, carried_day: date) -> pd.DataFrame:
    """Intervals starting on `carried_day` continue a carried one: they started when it did."""
    continued = (intervals["valid_from"] == carried_day).to_numpy()
    if continued.any():
        started = carried.set_index(KEY)["valid_from"]
        keys = pd.MultiIndex.from_frame(intervals.loc[continued, KEY])
        intervals = intervals.copy()
        intervals.loc[continued, "valid_from"] = started.reindex(keys).to_numpy()
    return intervals


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
