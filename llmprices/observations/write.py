"""Write a parsed and validated range of one source: one observations partition per day, and the day's
quarantine partition where it has rows (or stale ones to replace)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pandas as pd
import pyarrow as pa

from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS, QUARANTINE
from llmprices.observations.parse import SNAPSHOT_DATE


def write_days(lake: Lake, source: str, days: list[date], valid: pd.DataFrame, quarantined: pd.DataFrame) -> None:
    """One observations partition per day (an empty one too: it records the day as landed), and one quarantine
    partition per day with rows or with a stale file (an empty one replaces its rows)."""
    valid_by_day = tables_by_day(valid, OBSERVATIONS.schema)
    bad_by_day = tables_by_day(quarantined, QUARANTINE.schema)
    stale_quarantine = lake.days_with_partition(QUARANTINE, source)

    def write(day: date) -> None:
        partition = OBSERVATIONS.partition(snapshot_date=day, source=source)
        lake.write_partition(OBSERVATIONS, partition, valid_by_day.get(day, OBSERVATIONS.schema.empty_table()))
        if day in bad_by_day or day in stale_quarantine:
            lake.write_partition(QUARANTINE, partition, bad_by_day.get(day, QUARANTINE.schema.empty_table()))

    with ThreadPoolExecutor(max_workers=4) as pool:  # parquet encoding and file I/O release the GIL
        list(pool.map(write, days))


def tables_by_day(frame: pd.DataFrame, schema: pa.Schema) -> dict[date, pa.Table]:
    """Each day's rows of `frame` (in their order) as `to_table` gives them: sorted by day, converted to Arrow
    in one go and sliced, which costs a fraction of a conversion per day."""
    if not frame[SNAPSHOT_DATE].is_monotonic_increasing:
        frame = frame.sort_values(SNAPSHOT_DATE, kind="stable")
    counts = frame.groupby(SNAPSHOT_DATE, sort=True).size()
    table, offsets = to_table(frame, schema), [0, *counts.cumsum()]
    return {day: table.slice(offsets[i], count) for i, (day, count) in enumerate(counts.items())}


def to_table(frame: pd.DataFrame | None, schema: pa.Schema) -> pa.Table:
    if frame is None or frame.empty:
        return schema.empty_table()
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
