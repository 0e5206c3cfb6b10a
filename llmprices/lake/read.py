"""Read lake tables back as typed frames, for everything downstream of observations.

Goes through pyarrow datasets with the registry's hive schema, so `snapshot_date` is a date (not a
string) and the same code reads a local folder or an object store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from itertools import groupby

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from llmprices.lake.store import Lake
from llmprices.lake.tables import OBSERVATIONS, Table


def read_day_source_table(
    lake: Lake,
    table: Table,
    first_day: date | None = None,
    last_day: date | None = None,
    sources: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of a snapshot_date/source-partitioned table, with both hive columns, filtered by day and source;
    only `columns` (file or hive ones) when given."""
    columns = list(columns) if columns is not None else None
    if not lake.partition_values(table):
        return table.full_schema.empty_table().select(columns or table.full_schema.names).to_pandas()
    dataset = ds.dataset(
        lake.path(table), filesystem=lake.fs, format="parquet", partitioning=table.hive_partitioning,
        schema=table.full_schema, exclude_invalid_files=False,
    )  # fmt: skip
    condition = None
    for clause in (
        ds.field("snapshot_date") >= first_day if first_day else None,
        ds.field("snapshot_date") <= last_day if last_day else None,
        ds.field("source").isin(list(sources)) if sources else None,
    ):
        if clause is not None:
            condition = clause if condition is None else condition & clause
    rows = dataset.to_table(filter=condition, columns=columns)
    return rows.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def read_observations(
    lake: Lake,
    first_day: date | None = None,
    last_day: date | None = None,
    sources: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Observations of the given days (inclusive) and sources, with `snapshot_date` and `source` (or only
    `columns`)."""
    return read_day_source_table(lake, OBSERVATIONS, first_day, last_day, sources, columns)


def by_month(days: Iterable[date]) -> list[list[date]]:
    """The days, sorted, a calendar month at a time: how a long range is read without holding all of it."""
    return [list(month) for _, month in groupby(sorted(days), key=lambda day: (day.year, day.month))]
